import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import {
  violationStatus,
  windowViolations,
  withIngestViolations,
} from '../../src/monitoring/quality/ingest-violations.js';
import { freshnessSamples, viewFreshness } from '../../src/monitoring/quality/view-freshness.js';
import type { FeatureQuality } from '../../src/monitoring/quality/window-quality.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../../src/serving/migrations.js';
import { createStateStore } from '../../src/stores/state/index.js';
import { OPEN_TIMEOUT_MS, openQualityStores, type QualityStores, T0 } from '../features/quality-stores.js';
import { tempStoreDir } from '../helpers/servers.js';

let s: QualityStores;
const HOUR = 3_600_000;
const window = (features: string[], version = 1) => ({
  model: 'fraud',
  version,
  from: new Date(T0),
  to: new Date(T0 + HOUR),
  features,
});

let bareDir = '';

beforeAll(async () => {
  // One initdb for the suite: the recorder's store is a copy of the bare one, made before any migration.
  const root = tempStoreDir('ingest-quality-bare');
  bareDir = join(root, 'state');
  const bare = await createStateStore(`pglite:${bareDir}`, { dataDir: root, logger: silentLogger });
  await bare.close();
  cpSync(bareDir, join(root, 'copy'), { recursive: true });
  s = await openQualityStores('ingest-quality', join(root, 'copy'));
  await s.state.migrate(MODEL_REGISTRY_MIGRATIONS);
  await s.state.exec(
    `INSERT INTO models (name, last_version) VALUES ('fraud', 2);
     INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, feature_service, stage, created_by)
     VALUES ('fraud', 1, 'onnx', 'a', 'b', 1, '{}', 'scoring', 'production', 'test'),
            ('fraud', 2, 'onnx', 'a', 'b', 1, '{}', NULL, 'staging', 'test');`,
  );
  const reject = (minutes: number, field: string, count: number) => {
    s.clock.set(T0 + minutes * 60_000);
    s.quality.rejected('activity', [
      { field, code: 'INVALID_ARGUMENT', count, sample: `${field}: bad at minute ${minutes}` },
    ]);
  };
  reject(5, 'events[0].amount', 3);
  reject(10, 'events[2].ts', 1);
  reject(59, 'events[0].country', 2);
  reject(60, 'events[0].amount', 50);
  await s.quality.flush();
}, OPEN_TIMEOUT_MS);

afterAll(async () => {
  await s?.close();
  if (bareDir) rmSync(join(bareDir, '..'), { recursive: true, force: true });
});

describe('ingestion violations of a window', () => {
  it("gives each fed feature its own field's violations and the event-level ones, graded by the default rule", async () => {
    const found = await windowViolations(s.state, window(['amount', 'country', 'amount_x2', 'age']), 1000);
    expect(Object.keys(found).sort()).toEqual(['amount', 'amount_x2', 'country']);
    expect(found.amount).toMatchObject({
      ref: 'user_activity:amount',
      violations: 4,
      share: 0.004,
      status: 'warning',
    });
    expect(found.amount!.fields.map((f) => [f.field, f.count, f.sample])).toEqual([
      ['amount', 3, 'events[0].amount: bad at minute 5'],
      ['ts', 1, 'events[2].ts: bad at minute 10'],
    ]);
    expect(found.country).toMatchObject({ violations: 3, status: 'warning' });
    // A SQL view's feature is not traced to the field it is computed from: only event-level fields.
    expect(found.amount_x2).toMatchObject({ ref: 'user_double:amount_x2', violations: 1, status: 'warning' });
  });

  it('fails a feature whose violations exceed 1% of the window rows', async () => {
    const found = await windowViolations(s.state, window(['amount', 'country']), 200);
    expect([found.amount?.status, found.country?.status]).toEqual(['fail', 'fail']);
    expect((await windowViolations(s.state, window(['amount']), 400)).amount?.status).toBe('warning');
    expect(violationStatus(0, 0)).toBe('ok');
  });

  it('answers nothing for a version no feature service feeds', async () => {
    expect(await windowViolations(s.state, window(['amount'], 2), 1000)).toEqual({});
  });

  it("adds the violations to the window's quality, its status the worst of the checks", () => {
    const ok: FeatureQuality = {
      rows: 200,
      nullShare: { value: 0, baseline: 0, status: 'ok' },
      outOfRange: null,
      unseenCategories: null,
      status: 'ok',
    };
    const merged = withIngestViolations(
      { amount: ok, age: ok },
      { amount: { ref: 'user_activity:amount', violations: 4, share: 0.02, status: 'fail', fields: [] } },
    );
    expect(merged.amount).toEqual({
      ...ok,
      ingestViolations: { value: 0.02, baseline: null, status: 'fail' },
      status: 'fail',
    });
    expect(merged.age).toEqual(ok);
  });
});

describe('feature freshness from the state store', () => {
  it('grades each view by its age against its ttl (else a day), and a view never written as a warning', async () => {
    s.clock.set(T0);
    s.quality.written(['user_activity']);
    await s.quality.flush();
    const at = async (minutes: number) => (await viewFreshness(s.state, T0 + minutes * 60_000)).user_activity;
    expect(await at(20)).toEqual({
      lastWriteAt: new Date(T0).toISOString(),
      ageSeconds: 1200,
      objectiveSeconds: 3600,
      ratio: 1200 / 3600,
      status: 'ok',
    });
    expect((await at(45))?.status).toBe('warning');
    expect((await at(61))?.status).toBe('fail');
    const never = (await viewFreshness(s.state, T0)).user_double;
    expect(never).toEqual({
      lastWriteAt: null,
      ageSeconds: null,
      objectiveSeconds: 86_400,
      ratio: null,
      status: 'warning',
    });
  });

  it('gives the alert evaluator the freshness series of the views with a write', async () => {
    const views = await viewFreshness(s.state, T0 + 2 * HOUR);
    expect(freshnessSamples(views, T0 + 2 * HOUR)).toEqual([
      {
        metric: 'meridian_feature_freshness_seconds',
        labels: { feature_view: 'user_activity' },
        value: 7200,
        time: T0 + 2 * HOUR,
      },
      {
        metric: 'meridian_feature_freshness_slo_ratio',
        labels: { feature_view: 'user_activity' },
        value: 2,
        time: T0 + 2 * HOUR,
      },
    ]);
  });

  it('reads nothing from a state store the feature store never migrated', async () => {
    const bare = await createStateStore(`pglite:${bareDir}`, {
      dataDir: join(bareDir, '..'),
      logger: silentLogger,
    });
    try {
      expect(await viewFreshness(bare, T0)).toEqual({});
      expect(await windowViolations(bare, window(['amount']), 10)).toEqual({});
    } finally {
      await bare.close();
    }
  });
});
