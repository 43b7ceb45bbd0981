import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, type Registry } from '../../src/core/metrics.js';
import { createFileLoader } from '../../src/features/ingest/files/load.js';
import type { Ingestor } from '../../src/features/ingest/push.js';
import { openIngestQuality } from '../../src/features/quality/recorder.js';
import {
  activityEvent,
  OPEN_TIMEOUT_MS,
  openQualityStores,
  type QualityStores,
  qualityIngestor,
  T0,
} from './quality-stores.js';

let s: QualityStores;
let ingestor: Ingestor;

beforeAll(async () => {
  s = await openQualityStores('freshness');
  ingestor = qualityIngestor(s);
}, OPEN_TIMEOUT_MS);

afterAll(async () => {
  for (const app of apps.values()) await app.close();
  await ingestor?.close();
  await s?.close();
});

async function stored(): Promise<Record<string, number>> {
  const found = await s.state.query<{ view: string; last_write_at: Date }>(
    'SELECT view, last_write_at FROM feature_view_freshness ORDER BY view',
  );
  return Object.fromEntries(found.rows.map((r) => [r.view, new Date(r.last_write_at).getTime()]));
}

const apps = new Map<Registry, FastifyInstance>();

/** The value of a series on the registry's /metrics page, as an HTTP scrape sees it. */
async function scraped(metrics: Registry, series: string): Promise<number | undefined> {
  let app = apps.get(metrics);
  if (!app) {
    app = createHttpServer({ logger: silentLogger, metrics, stores: {}, isAccepting: () => true });
    apps.set(metrics, app);
  }
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const seconds = (view: string) => `meridian_feature_freshness_seconds{feature_view="${view}"}`;
const ratio = (view: string) => `meridian_feature_freshness_slo_ratio{feature_view="${view}"}`;

describe('feature freshness', () => {
  it('persists the time a push wrote each of its views', async () => {
    s.clock.set(T0 + 1000);
    await ingestor.push('activity', [activityEvent(1, 0)]);
    await s.quality.flush();
    expect(await stored()).toEqual({ user_activity: T0 + 1000, user_double: T0 + 1000 });
  });

  it('exports the age and the ratio to the objective (the ttl, else a day), growing between writes', async () => {
    s.clock.set(T0 + 1000 + 30 * 60_000);
    expect(await scraped(s.metrics, seconds('user_activity'))).toBe(1800);
    expect(await scraped(s.metrics, ratio('user_activity'))).toBe(0.5);
    expect(await scraped(s.metrics, ratio('user_double'))).toBeCloseTo(1800 / 86_400, 12);
    s.clock.advance(60 * 60_000);
    expect(await scraped(s.metrics, ratio('user_activity'))).toBe(1.5);
  });

  it('keeps the newest of several writes between two flushes', async () => {
    const base = T0 + 10 * 60_000;
    for (let i = 0; i < 5; i++) {
      s.clock.set(base + i * 100);
      await ingestor.push('activity', [activityEvent(2, i)]);
    }
    await s.quality.flush();
    expect((await stored()).user_activity).toBe(base + 400);
    s.clock.set(base + 1000);
    expect(await scraped(s.metrics, seconds('user_activity'))).toBe(0.6);
  });

  it('records the views a file load wrote', async () => {
    const loader = createFileLoader({
      offline: s.offline,
      online: s.online,
      catalog: s.registry,
      quality: s.quality,
    });
    const path = join(s.dir, 'good.csv');
    writeFileSync(path, 'user_id,amount,country,ts\n3,1.5,US,2024-05-01T00:00:00Z\n');
    s.clock.set(T0 + 20 * 60_000);
    expect(
      (await loader.load('activity', { path, name: 'good.csv', format: 'csv' }, 'reject')).accepted,
    ).toBe(1);
    await s.quality.flush();
    expect(await stored()).toEqual({ user_activity: T0 + 20 * 60_000, user_double: T0 + 20 * 60_000 });
  });

  it('keeps the stored ages after a restart, before any new write', async () => {
    const metrics = createMetricsRegistry(false);
    const reopened = await openIngestQuality({
      state: s.state,
      catalog: s.registry,
      registry: metrics,
      clock: s.clock,
    });
    s.clock.set(T0 + 80 * 60_000);
    expect(await scraped(metrics, seconds('user_activity'))).toBe(3600);
    expect(await scraped(metrics, ratio('user_activity'))).toBe(1);
    await reopened.close();
  });
});
