import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { driftReport } from '../../src/monitoring/drift/report.js';
import type { DriftMethod } from '../../src/monitoring/drift/types.js';
import { WindowDriftJob } from '../../src/monitoring/drift/window-job.js';
import type { WindowDriftResult } from '../../src/monitoring/drift/window-report.js';
import { DATASET_DRIFT_SHARE, FEATURE_DRIFT_SCORE } from '../../src/monitoring/metric-names.js';
import { Platform } from '../../src/platform.js';
import { tempStoreDir } from '../helpers/servers.js';
import { inferBody, type ServedPlatform, startServedPlatform } from '../serving/served-platform.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'xgboost', 'binary');
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const SHIFTED = 'f3';

/** The fixture's inputs with its predicted probability as column `p`: the version's reference data. */
function referenceCsv(): string {
  const inputs = readFileSync(join(FIXTURE, 'inputs.csv'), 'utf8').trim().split('\n');
  const probabilities = readFileSync(join(FIXTURE, 'predictions.csv'), 'utf8').trim().split('\n');
  return [`${inputs[0]},p`, ...inputs.slice(1).map((line, i) => `${line},${probabilities[i]}`)].join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('windowed drift of the prediction log', { timeout: 120_000 }, () => {
  let served: ServedPlatform;
  let url: string;
  const reference: Record<string, number[]> = {};
  const windows: Record<'same' | 'shifted' | 'small', { from: string; to: string; rows: number[][] }> =
    {} as never;

  async function predictions(): Promise<number> {
    const [row] = await served.platform.stores
      .offline!.query<{ n: bigint }>('SELECT count(*) AS n FROM predictions')
      .catch(() => [{ n: 0n }]);
    return Number(row!.n);
  }

  /** Sends the rows in requests of 50, waits until all are in the log; answers the window around them. */
  async function logWindow(rows: number[][]) {
    const before = await predictions();
    const from = new Date().toISOString();
    await sleep(5);
    for (let i = 0; i < rows.length; i += 50) {
      const res = await fetch(`${url}/v2/models/${served.model.name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: inferBody(rows.slice(i, i + 50)),
      });
      expect(res.status).toBe(200);
    }
    const deadline = Date.now() + 20_000;
    while ((await predictions()) < before + rows.length) {
      if (Date.now() > deadline) throw new Error('the prediction log never landed');
      await sleep(25);
    }
    await sleep(5);
    return { from, to: new Date().toISOString(), rows };
  }

  const drift = async (window: { from: string; to: string }, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${url}/v1/models/${served.model.name}/versions/1/drift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: window.from, to: window.to, ...extra }),
    });
    const body = (await res.json()) as WindowDriftResult;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  };

  beforeAll(async () => {
    served = await startServedPlatform('window-drift');
    url = served.platform.httpUrl;
    const form = new FormData();
    form.set('file', new Blob([referenceCsv()]), 'reference.csv');
    form.set('prediction', 'p');
    const put = await fetch(`${url}/v1/models/${served.model.name}/versions/1/baseline`, {
      method: 'PUT',
      body: form,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    FEATURES.forEach((f, j) => {
      reference[f] = served.rows.map((r) => r[j]!);
    });
    const shift = FEATURES.indexOf(SHIFTED);
    windows.same = await logWindow(served.rows);
    windows.shifted = await logWindow(served.rows.map((r) => r.map((v, j) => (j === shift ? v + 3 : v))));
    windows.small = await logWindow(served.rows.slice(0, 50));
  }, 120_000);

  afterAll(async () => served?.stop());

  /** The window's values of each feature, as the in-memory report takes them. */
  const columnsOf = (rows: number[][]) =>
    Object.fromEntries(FEATURES.map((f, j) => [f, rows.map((r) => r[j]!)]));

  it('finds drift on exactly the shifted feature and no other', async () => {
    const shifted = await drift(windows.shifted);
    expect(shifted.status).toBe('compared');
    expect(shifted.rows).toBe(200);
    expect(Object.keys(shifted.columns).sort()).toEqual(FEATURES);
    const drifted = Object.entries(shifted.columns)
      .filter(([, c]) => c.drifted)
      .map(([f]) => f);
    expect(drifted).toEqual([SHIFTED]);
    expect(shifted.columns[SHIFTED]).toMatchObject({ method: 'ks', status: 'drift' });
    expect(shifted.driftShare).toBe(1 / 8);
    expect(shifted.datasetDrift).toBe(false);
    expect(shifted.prediction?.column).toBe('p');
  });

  it('finds no drift in a window drawn from the reference itself', async () => {
    const same = await drift(windows.same);
    expect(same.rows).toBe(200);
    expect(same.drifted).toBe(0);
    for (const column of Object.values(same.columns))
      expect(column).toMatchObject({ score: 0, status: 'ok' });
    expect(same.prediction?.drifted).toBe(false);
  });

  it('scores every feature exactly as the in-memory report on the same values', async () => {
    const shifted = await drift(windows.shifted);
    const expected = driftReport(reference, columnsOf(windows.shifted.rows));
    expect(shifted.columns).toEqual(expected.columns);
  });

  it('agrees with the in-memory report on overridden methods (Wasserstein, PSI, Jensen-Shannon, chi-square)', async () => {
    const methods: Record<string, DriftMethod> = {
      f0: 'wasserstein',
      f1: 'psi',
      f2: 'jensenshannon',
      f3: 'wasserstein',
      f4: 'chisquare',
    };
    const shifted = await drift(windows.shifted, { methods });
    const expected = driftReport(reference, columnsOf(windows.shifted.rows), { methods });
    for (const f of FEATURES) {
      const got = shifted.columns[f]!;
      const want = expected.columns[f]!;
      expect(got.method).toBe(want.method);
      expect(got.drifted).toBe(want.drifted);
      expect(Math.abs(got.score - want.score)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.score)));
    }
  });

  it('reports a window with fewer rows than the minimum as insufficient data', async () => {
    const small = await drift(windows.small);
    expect(small).toMatchObject({
      status: 'insufficient_data',
      rows: 50,
      minRows: 100,
      datasetDrift: null,
      driftShare: null,
      columns: {},
    });
    const lowered = await drift(windows.small, { minRows: 50 });
    expect(lowered.status).toBe('compared');
  });

  it('answers insufficient labels, with a labelled share of 0, for a window whose predictions have no label', async () => {
    const same = await drift(windows.same);
    expect(same.performance).toMatchObject({
      status: 'insufficient_labels',
      predictions: 200,
      labelled: 0,
      labelledShare: 0,
      metrics: {},
      drop: {},
    });
    const stored = await served.platform.stores.offline!.query<{ status: string; predictions: bigint }>(
      'SELECT status, predictions FROM performance_results WHERE window_start = $1',
      [new Date(windows.same.from)],
    );
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.map((r) => [r.status, Number(r.predictions)])).toContainEqual(['insufficient_labels', 200]);
  });

  it('stores every outcome in drift_results and exports the gauges', async () => {
    await drift(windows.shifted);
    const offline = served.platform.stores.offline!;
    const rows = await offline.query<{ feature: string; status: string; drifted: boolean }>(
      `SELECT feature, status, drifted FROM drift_results WHERE window_start = $1 AND role = 'feature'
       ORDER BY computed_at DESC, feature LIMIT 8`,
      [new Date(windows.shifted.from)],
    );
    expect(rows.filter((r) => r.drifted).map((r) => r.feature)).toEqual([SHIFTED]);
    const insufficient = await offline.query(
      `SELECT rows FROM drift_results WHERE status = 'insufficient_data' AND window_start = $1`,
      [new Date(windows.small.from)],
    );
    expect(insufficient.length).toBeGreaterThan(0);
    const metrics = await served.platform.metrics.metrics();
    expect(metrics).toMatch(
      new RegExp(
        `${FEATURE_DRIFT_SCORE}\\{model="${served.model.name}",version="1",feature="${SHIFTED}",method="ks"\\} 0\\.\\d+`,
      ),
    );
    expect(metrics).toContain(`${DATASET_DRIFT_SHARE}{model="${served.model.name}",version="1"}`);
  });

  it('fires the feature-drift alert on the shifted feature only', async () => {
    await drift(windows.shifted);
    const res = await fetch(`${url}/v1/alerts?state=firing`);
    const { alerts } = (await res.json()) as { alerts: { rule: string; labels: Record<string, string> }[] };
    const features = alerts.filter((a) => a.rule === 'MeridianFeatureDrift').map((a) => a.labels.feature);
    // One alert per method: the override test scored f3 with Wasserstein too.
    expect(new Set(features)).toEqual(new Set([SHIFTED]));
  });

  it('runs every production version with a baseline over the last hour on schedule', async () => {
    const { offline, state, artifact } = served.platform.stores;
    const job = new WindowDriftJob({
      offline: offline!,
      state: state!,
      artifact: artifact!,
      logger: silentLogger,
    });
    const results = await job.runProduction();
    expect(results.map((r) => [r.model, r.version, r.status])).toEqual([[served.model.name, 1, 'compared']]);
    expect(results[0]!.rows).toBe(450);
  });

  it('retries a failing version, then stores the failure with its error and runs on', async () => {
    const { offline, state, artifact } = served.platform.stores;
    const profile = (await (
      await fetch(`${url}/v1/models/${served.model.name}/versions/1/baseline`)
    ).json()) as {
      sample: { path: string };
    };
    // The last test of the platform: its baseline loses its sample for good.
    await artifact!.delete(profile.sample.path);
    const job = new WindowDriftJob({
      offline: offline!,
      state: state!,
      artifact: artifact!,
      logger: silentLogger,
    });
    expect(await job.runProduction({}, 2)).toEqual([]);
    const failed = await offline!.query<{ error: string }>(
      `SELECT error FROM drift_results WHERE status = 'failed' AND model = $1`,
      [served.model.name],
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toContain(profile.sample.path);
  });

  it('names the bad field of a request', async () => {
    const res = await fetch(`${url}/v1/models/${served.model.name}/versions/1/drift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'yesterday' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^from: .*ISO 8601/);
  });
});

describe('windowed drift in a monitoring-only process', { timeout: 60_000 }, () => {
  it('answers FAILED_PRECONDITION naming the offline store', async () => {
    const dir = tempStoreDir('window-drift-monitoring');
    const config = loadConfig({
      cwd: dir,
      env: {},
      overrides: {
        target: 'monitoring',
        dataDir: dir,
        http: { host: '127.0.0.1', port: 0 },
        grpc: { host: '127.0.0.1', port: 0 },
      },
    });
    const platform = await Platform.start(config, { logger: silentLogger });
    try {
      const res = await fetch(`${platform.httpUrl}/v1/models/churn/versions/1/drift`, { method: 'POST' });
      expect(res.status).toBe(412);
      const body = (await res.json()) as { code: string; error: string };
      expect(body.code).toBe('FAILED_PRECONDITION');
      expect(body.error).toMatch(/offline store.*--target all/);
    } finally {
      await platform.stop();
    }
  });
});
