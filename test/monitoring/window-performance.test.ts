import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WindowDriftResult } from '../../src/monitoring/drift/window-report.js';
import { MODEL_LABELLED_SHARE, PERFORMANCE_DROP } from '../../src/monitoring/metric-names.js';
import { inferBody, type ServedPlatform, startServedPlatform } from '../serving/served-platform.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'xgboost', 'binary');
/** What the version was pushed with: the window's drop is measured against these. */
const TRAINING = { accuracy: 0.9, f1: 0.85, roc_auc: 0.95 };
const VERSION = 2;

const probabilities = readFileSync(join(FIXTURE, 'predictions.csv'), 'utf8').trim().split('\n').map(Number);
/** The class XGBoost predicts for each fixture row: 1 from probability 0.5. */
const predicted = probabilities.map((p) => (p >= 0.5 ? 1 : 0));
/** Ground truth the model gets right: the labels of the baseline and of the good window. */
const goodLabels = predicted;
/** Ground truth where every third row is the other class. */
const badLabels = predicted.map((y, i) => (i % 3 === 0 ? 1 - y : y));
/** The bad window labels its first 150 of 200 predictions. */
const BAD_LABELLED = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accuracy, precision, recall, F1 of class 1 and ROC AUC by counting pairs, from their definitions. */
function expectedMetrics(rows: number[]) {
  const y = rows.map((i) => badLabels[i]!);
  const yhat = rows.map((i) => predicted[i]!);
  const tp = y.filter((v, k) => v === 1 && yhat[k] === 1).length;
  const precision = tp / yhat.filter((v) => v === 1).length;
  const recall = tp / y.filter((v) => v === 1).length;
  let pairs = 0;
  let wins = 0;
  for (const i of rows.filter((i) => badLabels[i] === 1)) {
    for (const j of rows.filter((j) => badLabels[j] === 0)) {
      pairs += 1;
      const [pi, pj] = [probabilities[i]!, probabilities[j]!];
      wins += pi > pj ? 1 : pi === pj ? 0.5 : 0;
    }
  }
  return {
    accuracy: y.filter((v, k) => v === yhat[k]).length / rows.length,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
    rocAuc: wins / pairs,
  };
}

describe('performance of the window drift job', { timeout: 120_000 }, () => {
  let served: ServedPlatform;
  let url: string;
  const windows: Record<'good' | 'bad' | 'few', { from: string; to: string }> = {} as never;

  async function post(path: string, body: unknown) {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(json)).toBe(200);
    return json;
  }

  async function logged(): Promise<number> {
    const rows = await served.platform.stores
      .offline!.query<{ n: bigint }>('SELECT count(*) AS n FROM predictions WHERE version = $1', [VERSION])
      .catch(() => [{ n: 0n }]);
    return Number(rows[0]!.n);
  }

  /** Serves `count` fixture rows as requests `${tag}-k` of 50 rows, labels rows [0, labelled) with `labels`. */
  async function labelledWindow(tag: string, count: number, labelled: number, labels: number[]) {
    const before = await logged();
    const from = new Date().toISOString();
    await sleep(5);
    const path = `/v2/models/${served.model.name}/versions/${VERSION}/infer`;
    for (let i = 0; i < count; i += 50) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: inferBody(served.rows.slice(i, Math.min(count, i + 50)), `${tag}-${i / 50}`),
      });
      expect(res.status).toBe(200);
    }
    const deadline = Date.now() + 20_000;
    while ((await logged()) < before + count) {
      if (Date.now() > deadline) throw new Error('the prediction log never landed');
      await sleep(25);
    }
    await sleep(5);
    const to = new Date().toISOString();
    const sent = Array.from({ length: labelled }, (_, i) => ({
      predictionId: `${tag}-${Math.floor(i / 50)}`,
      row: i % 50,
      label: labels[i]!,
    }));
    expect(await post('/v1/labels', { labels: sent })).toMatchObject({ accepted: labelled });
    return { from, to };
  }

  const run = async (window: { from: string; to: string }) =>
    (await post(
      `/v1/models/${served.model.name}/versions/${VERSION}/drift`,
      window,
    )) as unknown as WindowDriftResult;

  const alerts = async (state: string) => {
    const res = await fetch(`${url}/v1/alerts?state=${state}`);
    const body = (await res.json()) as { alerts: { rule: string; labels: Record<string, string> }[] };
    return body.alerts
      .filter((a) => a.rule === 'MeridianPerformanceDrop' && a.labels.version === String(VERSION))
      .map((a) => a.labels.metric)
      .sort();
  };

  beforeAll(async () => {
    served = await startServedPlatform('window-performance');
    url = served.platform.httpUrl;
    const form = new FormData();
    form.set('format', served.model.format);
    form.set('file', new Blob([readFileSync(served.model.modelPath)]), basename(served.model.modelPath));
    form.set('metrics', JSON.stringify(TRAINING));
    const pushed = await fetch(`${url}/v1/models/${served.model.name}/versions`, {
      method: 'POST',
      body: form,
    });
    expect(pushed.status, await pushed.clone().text()).toBe(201);
    await post(`/v1/models/${served.model.name}/versions/${VERSION}/stage`, { stage: 'production' });
    const inputs = readFileSync(join(FIXTURE, 'inputs.csv'), 'utf8').trim().split('\n');
    const reference = [
      `${inputs[0]},p,y`,
      ...inputs.slice(1).map((line, i) => `${line},${probabilities[i]},${goodLabels[i]}`),
    ].join('\n');
    const baseline = new FormData();
    baseline.set('file', new Blob([reference]), 'reference.csv');
    baseline.set('prediction', 'p');
    baseline.set('label', 'y');
    const put = await fetch(`${url}/v1/models/${served.model.name}/versions/${VERSION}/baseline`, {
      method: 'PUT',
      body: baseline,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    windows.good = await labelledWindow('good', 200, 200, goodLabels);
    windows.bad = await labelledWindow('bad', 200, BAD_LABELLED, badLabels);
    windows.few = await labelledWindow('few', 50, 20, goodLabels);
  }, 120_000);

  afterAll(async () => served?.stop());

  it("measures the window's labelled predictions as their definitions do, against the training metrics", async () => {
    const { performance } = await run(windows.bad);
    const expected = expectedMetrics(Array.from({ length: BAD_LABELLED }, (_, i) => i));
    expect(performance).toMatchObject({
      status: 'evaluated',
      predictions: 200,
      labelled: BAD_LABELLED,
      labelledShare: BAD_LABELLED / 200,
      task: 'binary',
      positiveLabel: '1',
      training: { accuracy: TRAINING.accuracy, f1: TRAINING.f1, rocAuc: TRAINING.roc_auc },
    });
    for (const [metric, value] of Object.entries(expected)) {
      expect(performance.metrics[metric as keyof typeof expected], metric).toBeCloseTo(value, 12);
    }
    expect(performance.drop.accuracy).toBeCloseTo(
      (TRAINING.accuracy - expected.accuracy) / TRAINING.accuracy,
      12,
    );
    expect(performance.drop.f1).toBeCloseTo((TRAINING.f1 - expected.f1) / TRAINING.f1, 12);
    expect(performance.drop.rocAuc).toBeCloseTo((TRAINING.roc_auc - expected.rocAuc) / TRAINING.roc_auc, 12);
    expect(Object.keys(performance.drop).sort()).toEqual(['accuracy', 'f1', 'rocAuc']);
  });

  it('exports the drop per metric and the labelled share on /metrics', async () => {
    const { performance } = await run(windows.bad);
    const text = await (await fetch(`${url}/metrics`)).text();
    const labels = `model="${served.model.name}",version="${VERSION}"`;
    for (const [metric, drop] of Object.entries(performance.drop)) {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${PERFORMANCE_DROP}{${labels},metric="${metric}"}`));
      expect(Number(line?.split(' ')[1]), metric).toBeCloseTo(drop, 12);
    }
    expect(text).toContain(`${MODEL_LABELLED_SHARE}{${labels}} ${BAD_LABELLED / 200}`);
  });

  it('fires MeridianPerformanceDrop on each metric at least 10% worse, and resolves it when a window recovers', async () => {
    const { performance } = await run(windows.bad);
    const worse = Object.entries(performance.drop)
      .filter(([, drop]) => drop >= 0.1)
      .map(([metric]) => metric)
      .sort();
    expect(worse).toContain('accuracy');
    expect(await alerts('firing')).toEqual(worse);
    const good = await run(windows.good);
    expect(good.performance.metrics.accuracy).toBe(1);
    expect(Object.values(good.performance.drop).every((drop) => drop < 0)).toBe(true);
    expect(await alerts('firing')).toEqual([]);
    expect(await alerts('resolved')).toEqual(worse);
  });

  it("scores the label's drift against the baseline's label column and stores it beside the features", async () => {
    const good = await run(windows.good);
    expect(good.performance.labelDrift).toMatchObject({
      column: 'y',
      windowLabels: 200,
      score: 0,
      drifted: false,
    });
    const bad = await run(windows.bad);
    expect(bad.performance.labelDrift).toMatchObject({ column: 'y', windowLabels: BAD_LABELLED });
    expect(bad.performance.labelDrift!.score).toBeGreaterThan(0);
    const rows = await served.platform.stores.offline!.query<{ score: number; nulls: bigint }>(
      `SELECT score, nulls FROM drift_results WHERE role = 'label' AND window_start = $1 AND version = $2`,
      [new Date(windows.bad.from), VERSION],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.score).toBe(bad.performance.labelDrift!.score);
    expect(Number(rows[0]!.nulls)).toBe(200 - BAD_LABELLED);
  });

  it('answers insufficient labels below 30 labelled predictions, keeps the share and drops the gauges', async () => {
    await run(windows.bad);
    const few = await run(windows.few);
    expect(few.status).toBe('insufficient_data');
    expect(few.performance).toMatchObject({
      status: 'insufficient_labels',
      minLabels: 30,
      predictions: 50,
      labelled: 20,
      labelledShare: 0.4,
      metrics: {},
      drop: {},
      labelDrift: null,
    });
    const text = await (await fetch(`${url}/metrics`)).text();
    const labels = `model="${served.model.name}",version="${VERSION}"`;
    expect(text).not.toContain(`${PERFORMANCE_DROP}{${labels}`);
    expect(text).toContain(`${MODEL_LABELLED_SHARE}{${labels}} 0.4`);
    const stored = await served.platform.stores.offline!.query<{ status: string; labelled: bigint }>(
      'SELECT status, labelled FROM performance_results WHERE window_start = $1 AND version = $2',
      [new Date(windows.few.from), VERSION],
    );
    expect(stored.map((r) => [r.status, Number(r.labelled)])).toEqual([['insufficient_labels', 20]]);
  });

  it('stores one row per metric of an evaluated window with its training value and drop', async () => {
    const { performance } = await run(windows.bad);
    const stored = await served.platform.stores.offline!.query<{
      metric: string;
      value: number;
      training: number | null;
      drop: number | null;
    }>(
      `SELECT metric, value, training, "drop" FROM performance_results
       WHERE window_start = $1 AND version = $2 AND status = 'evaluated'
       QUALIFY computed_at = max(computed_at) OVER () ORDER BY metric`,
      [new Date(windows.bad.from), VERSION],
    );
    expect(stored.map((r) => r.metric)).toEqual(['accuracy', 'f1', 'precision', 'recall', 'rocAuc']);
    for (const row of stored) {
      const metric = row.metric as keyof typeof performance.metrics;
      expect(row.value).toBe(performance.metrics[metric]);
      expect(row.drop).toBe(performance.drop[metric] ?? null);
      expect(row.training).toBe(performance.training[metric] ?? null);
    }
  });
});
