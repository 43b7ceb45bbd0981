import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerLabelRoutes } from '../../src/api/routes/labels.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { BASELINE_MIGRATIONS } from '../../src/monitoring/baseline/migrations.js';
import type {
  BaselineProfile,
  CategoricalColumnProfile,
  NumericColumnProfile,
} from '../../src/monitoring/baseline/profile.js';
import { saveBaseline } from '../../src/monitoring/baseline/store.js';
import { jensenShannon } from '../../src/monitoring/stats/jensenshannon.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../../src/serving/migrations.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../../src/serving/prediction-log-event.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3600_000;

async function prepare(dir: string, root: string): Promise<void> {
  const state = await createStateStore(`pglite:${dir}`, { dataDir: root, logger: silentLogger });
  await state.migrate([...MODEL_REGISTRY_MIGRATIONS, ...BASELINE_MIGRATIONS]);
  await state.exec(`INSERT INTO models (name, last_version) VALUES ('churn', 3);
    INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, stage, created_by)
    VALUES ('churn', 2, 'onnx', 'models/churn/2', 'x', 1, '{}', 'staging', 'test'),
           ('churn', 3, 'onnx', 'models/churn/3', 'x', 1, '{}', 'staging', 'test');
    INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, metrics, stage, created_by)
    VALUES ('churn', 1, 'onnx', 'models/churn/1', 'x', 1, '{}', '{"AUC": 0.9, "accuracy": 0.8, "loss": 0.3}',
            'production', 'test');`);
  await saveBaseline(state, baseline());
  await saveBaseline(state, numericBaseline());
  await state.close();
}

/** A baseline whose label column `churned` is 60% 0 and 40% 1. */
function baseline(): BaselineProfile {
  const label: CategoricalColumnProfile = {
    type: 'categorical',
    role: 'label',
    sourceType: 'BIGINT',
    count: 100,
    nulls: 0,
    nullShare: 0,
    distinct: 2,
    distinctCapped: false,
    categories: [
      { value: '0', count: 60, share: 0.6 },
      { value: '1', count: 40, share: 0.4 },
    ],
    other: { categories: 0, count: 0, share: 0 },
  };
  return {
    model: 'churn',
    version: 1,
    rows: 100,
    format: 'csv',
    features: [],
    prediction: null,
    label: 'churned',
    binning: { kind: 'equal-frequency', probs: [], closed: 'right' },
    topCategories: 100,
    columns: { churned: label },
    sample: { path: 'Baselines/churn/v1/sample.parquet', sha256: 'x', seed: 42, sampleSize: 0, counts: {} },
    createdAt: new Date(T0).toISOString(),
  };
}

/** A regressor's baseline whose label `amount` has bins (-inf, 1], (1, 2], (2, 5], (5, inf) of 25 rows each. */
function numericBaseline(): BaselineProfile {
  const amount: NumericColumnProfile = {
    type: 'numerical',
    role: 'label',
    sourceType: 'DOUBLE',
    count: 100,
    nulls: 0,
    nullShare: 0,
    distinct: 100,
    distinctCapped: false,
    min: 0,
    max: 10,
    mean: 3,
    std: 2,
    quantiles: null,
    bins: { cuts: [1, 2, 5], counts: [25, 25, 25, 25], shares: [0.25, 0.25, 0.25, 0.25] },
  };
  return { ...baseline(), version: 3, label: 'amount', columns: { amount } };
}

/** Four predictions of churn v1 an hour apart: p(1) = 0.9, 0.8, 0.3, 0.2, predicted 1, 1, 0, 0. */
function predictions() {
  return [0.9, 0.8, 0.3, 0.2].map((p, i) => ({
    request_id: `req-${i}`,
    row: 0,
    model: 'churn',
    version: 1,
    protocol: 'v2',
    time: T0 + i * HOUR,
    entity_keys: { user_id: 100 + i },
    feature_names: null,
    features: [i],
    output: { label: p >= 0.5 ? 1 : 0, probabilities: [1 - p, p] },
    latency_ms: 1,
  }));
}

describe('labels and performance REST routes', () => {
  const template = pgliteTemplate('labels-route', prepare);
  let state: StateStore;
  let offline: OfflineStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    state = await createStateStore(`pglite:${template.freshDir()}`, {
      dataDir: template.root,
      logger: silentLogger,
    });
    offline = await createOfflineStore('duckdb::memory:', { dataDir: template.root, logger: silentLogger });
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(PREDICTIONS_TABLE, predictions());
    app = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: { state, offline },
      isAccepting: () => true,
    });
    registerLabelRoutes(app, {
      offline,
      state,
      logger: silentLogger,
      clock: new ManualClock(T0 + 24 * HOUR),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await offline?.close();
    await state?.close();
  });

  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/labels', payload: payload as object });
  const performance = (version: string, query = '') =>
    app.inject({ method: 'GET', url: `/v1/models/churn/versions/${version}/performance${query}` });

  it('answers 400 naming the JSON path of a bad label, and stores nothing', async () => {
    const res = await post({
      labels: [
        { predictionId: 'req-0', label: 1 },
        { predictionId: 'req-1', lable: 1 },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().details.field).toBe('labels[1].label');
    expect(res.json().error).toContain('labels[1].label: is missing');
    const window = (await performance('1', `?from=${new Date(T0).toISOString()}`)).json();
    expect(window.labelled).toBe(0);
  });

  it('answers the counts of accepted, duplicate, unknown and late labels, then the window performance', async () => {
    const res = await post({
      labels: [
        { predictionId: 'req-0', label: 1 },
        { predictionId: 'req-1', label: 0 },
        { model: 'churn', entity: { user_id: 102 }, time: new Date(T0 + 2 * HOUR).toISOString(), label: 1 },
        { predictionId: 'req-0', label: 0 },
        { predictionId: 'req-9', label: 1 },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ accepted: 3, duplicates: 1, unknown: 1, outsideLookback: 0 });

    const window = await performance(
      '1',
      `?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 4 * HOUR).toISOString()}`,
    );
    expect(window.statusCode, window.body).toBe(200);
    const report = window.json();
    // Labelled: (p=0.9, y=1, pred 1), (p=0.8, y=0, pred 1), (p=0.3, y=1, pred 0).
    expect(report).toMatchObject({
      model: 'churn',
      version: 1,
      predictions: 4,
      labelled: 3,
      labelledShare: 0.75,
      task: 'binary',
      averaging: 'binary',
      positiveLabel: '1',
      classes: ['0', '1'],
      training: { accuracy: 0.8, rocAuc: 0.9 },
    });
    expect(report.metrics.accuracy).toBeCloseTo(1 / 3, 12);
    expect(report.metrics.precision).toBeCloseTo(1 / 2, 12);
    expect(report.metrics.recall).toBeCloseTo(1 / 2, 12);
    expect(report.metrics.rocAuc).toBeCloseTo(1 / 2, 12);
    expect(report.delta.accuracy).toBeCloseTo(1 / 3 - 0.8, 12);
    expect(report.delta.rocAuc).toBeCloseTo(0.5 - 0.9, 12);
    expect(Object.keys(report.delta).sort()).toEqual(['accuracy', 'rocAuc']);
    // Window labels: 0 once, 1 twice, against the baseline's 60 zeros and 40 ones.
    const expected = jensenShannon([60, 40], [1, 2]).score;
    expect(report.labelDriftSkipped).toBeNull();
    expect(report.labelDrift).toMatchObject({
      column: 'churned',
      windowLabels: 3,
      type: 'categorical',
      method: 'jensenshannon',
      threshold: 0.1,
      drifted: expected >= 0.1,
    });
    expect(report.labelDrift.score).toBeCloseTo(expected, 12);
  });

  it('reports MAE, RMSE and label drift over the bins of a numeric label for a regressor', async () => {
    const truth = [0.5, 1, 2.5, 7];
    const predicted = [1, 1, 2, 9];
    await offline.append(
      PREDICTIONS_TABLE,
      predicted.map((prediction, i) => ({
        ...predictions()[i],
        request_id: `reg-${i}`,
        version: 3,
        output: { prediction },
      })),
    );
    const res = await post({ labels: truth.map((label, i) => ({ predictionId: `reg-${i}`, label })) });
    expect(res.json()).toEqual({ accepted: 4, duplicates: 0, unknown: 0, outsideLookback: 0 });
    const report = (await performance('3', `?from=${new Date(T0).toISOString()}`)).json();
    expect(report).toMatchObject({ task: 'regression', labelled: 4, labelledShare: 1 });
    expect(report.metrics.mae).toBeCloseTo((0.5 + 0 + 0.5 + 2) / 4, 12);
    expect(report.metrics.rmse).toBeCloseTo(Math.sqrt((0.25 + 0 + 0.25 + 4) / 4), 12);
    // 0.5 and 1 fall in (-inf, 1], 2.5 in (2, 5], 7 in (5, inf).
    expect(report.labelDrift.score).toBeCloseTo(jensenShannon([25, 25, 25, 25], [2, 0, 1, 1]).score, 12);
    expect(report.labelDrift).toMatchObject({ column: 'amount', type: 'numerical', windowLabels: 4 });
  });

  it('answers 404 for a version the registry does not have and 400 for a bad window', async () => {
    const missing = await performance('7');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toContain('version 7');
    const bad = await performance('1', '?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.field).toBe('from');
    const reversed = await performance(
      '1',
      `?from=${new Date(T0 + HOUR).toISOString()}&to=${new Date(T0).toISOString()}`,
    );
    expect(reversed.statusCode).toBe(400);
  });

  it('reports an empty window with no labelled share, no metrics and why there is no label drift', async () => {
    const res = await performance('1', `?to=${new Date(T0 - HOUR).toISOString()}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      predictions: 0,
      labelled: 0,
      labelledShare: null,
      task: null,
      metrics: {},
    });
  });
});
