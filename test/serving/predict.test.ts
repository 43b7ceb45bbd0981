import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Platform } from '../../src/platform.js';
import { loadXgboostModel } from '../../src/serving/runtimes/xgboost.js';
import { fixtureNamed } from '../clients/oip-expect.js';
import { close, fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import { USER } from '../helpers/catalog.js';
import {
  type RunningServer,
  serverAvailable,
  startPostgres,
  startRedis,
  tempStoreDir,
} from '../helpers/servers.js';

/** XGBoost reg:squarederror over r0..r4; the route and the hand-built vector go through the same runtime, so they agree exactly. */
const MODEL = resolve(import.meta.dirname, '..', 'fixtures', 'xgboost', 'regression', 'model.json');
const FEATURES = ['r0', 'r1', 'r2', 'r3', 'r4'];
const ROWS: Record<number, number[]> = {
  101: [0.5, -1.25, 2, 0.75, -0.3],
  102: [-2.5, 0.4, -0.1, 1.5, 3.25],
};
/** Mapped by `view:feature` ref and by bare feature name alike. */
const INPUTS = 'user_stats:r0,r1,r2,user_stats:r3,r4';

/** XGBoost binary:logistic over f0..f7, served as "clf" from the feature service "clf_features". */
const CLASSIFIER = fixtureNamed(fixtureModels(), 'xgboost-binary');
const CLF_FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
/** The first three fixture rows without NaN (one of them labelled 1), keyed by the user they are stored for. */
const CLF_USERS = [201, 202, 203];
const CLF_FIXTURE = readNumericCsv(CLASSIFIER.inputsCsv)
  .map((row, i) => ({ row, i }))
  .filter(({ row }) => row.every((v) => !Number.isNaN(v)))
  .slice(0, CLF_USERS.length);
const CLF_ROWS = CLF_FIXTURE.map(({ row }) => row);
/** XGBoost's own P(class 1) for those rows. */
const CLF_EXPECTED = CLF_FIXTURE.map(({ i }) => readNumericCsv(CLASSIFIER.predictionsCsv)[i]![0]!);

const definitions = {
  entities: [USER],
  sources: [
    {
      name: 'clf_inputs',
      kind: 'stream',
      timestampField: 'ts',
      schema: {
        user_id: 'int64',
        ts: 'timestamp',
        ...Object.fromEntries(CLF_FEATURES.map((f) => [f, 'float64'])),
      },
    },
    {
      name: 'stats',
      kind: 'stream',
      timestampField: 'ts',
      schema: {
        user_id: 'int64',
        ts: 'timestamp',
        ...Object.fromEntries(FEATURES.map((f) => [f, 'float64'])),
      },
    },
  ],
  featureViews: [
    {
      name: 'user_clf',
      entities: ['user'],
      source: 'clf_inputs',
      features: Object.fromEntries(CLF_FEATURES.map((f) => [f, 'float64'])),
    },
    {
      name: 'user_stats',
      entities: ['user'],
      source: 'stats',
      features: Object.fromEntries(FEATURES.map((f) => [f, 'float64'])),
    },
  ],
  featureServices: [
    { name: 'reg_features', features: ['user_stats:*'] },
    { name: 'clf_features', features: ['user_clf:*'] },
  ],
};

async function byHand(rows: number[][]): Promise<number[]> {
  const model = await loadXgboostModel(readFileSync(MODEL));
  try {
    const out = await model.predict({ rows: rows.length, values: Float64Array.from(rows.flat()) });
    return Array.from(out.predictions!);
  } finally {
    await model.close();
  }
}

async function postJson(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Pushes the regression fixture as a new version of model "reg" with these form fields. */
async function pushModel(url: string, fields: Record<string, string>): Promise<number> {
  const form = new FormData();
  form.set('format', 'xgboost');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([readFileSync(MODEL)]), 'model.json');
  const res = await fetch(`${url}/v1/models/reg/versions`, { method: 'POST', body: form });
  const body = (await res.json()) as { version: number };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.version;
}

async function untilReady(url: string, model = 'reg'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${url}/v2/models/${model}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`model ${model} never became ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function events(): Record<string, unknown>[] {
  return Object.entries(ROWS).map(([user, row]) => ({
    user_id: Number(user),
    ts: new Date().toISOString(),
    ...Object.fromEntries(FEATURES.map((f, i) => [f, row[i]])),
  }));
}

function classifierEvents(): Record<string, unknown>[] {
  return CLF_USERS.map((user, r) => ({
    user_id: user,
    ts: new Date().toISOString(),
    ...Object.fromEntries(CLF_FEATURES.map((f, i) => [f, CLF_ROWS[r]![i]])),
  }));
}

/** Pushes the XGBoost binary fixture as model "clf" hydrating from "clf_features", and promotes it. */
async function pushClassifier(url: string): Promise<void> {
  const form = new FormData();
  form.set('format', 'xgboost');
  form.set('featureService', 'clf_features');
  form.set('file', new Blob([readFileSync(CLASSIFIER.modelPath)]), 'model.json');
  const res = await fetch(`${url}/v1/models/clf/versions`, { method: 'POST', body: form });
  expect(res.status, await res.text()).toBe(201);
  expect((await postJson(url, '/v1/models/clf/versions/1/stage', { stage: 'production' })).status).toBe(200);
  await untilReady(url, 'clf');
}

/** `rows` through OIP v2 inference on model `name`: its probabilities per row and labels. */
async function inferClassifier(url: string, name: string, rows: number[][]) {
  const { status, body } = await postJson(url, `/v2/models/${name}/infer`, {
    inputs: [{ name: 'input', datatype: 'FP64', shape: [rows.length, rows[0]!.length], data: rows.flat() }],
  });
  expect(status, JSON.stringify(body)).toBe(200);
  const outputs = body.outputs as { name: string; shape: number[]; data: number[] }[];
  const probabilities = outputs.find((o) => o.name === 'probabilities')!;
  const columns = probabilities.shape[1]!;
  return {
    probabilities: rows.map((_, r) => probabilities.data.slice(r * columns, (r + 1) * columns)),
    labels: outputs.find((o) => o.name === 'label')!.data,
  };
}

function platformConfig(
  dir: string,
  target: 'all' | 'features' | 'serving',
  stores: Record<string, string> = {},
) {
  return loadConfig({
    cwd: dir,
    env: {},
    overrides: {
      target,
      dataDir: dir,
      ...stores,
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
    },
  });
}

describe('hydrating prediction on a running platform', { timeout: 120_000 }, () => {
  let platform: Platform;
  let dir: string;
  let url: string;
  const post = (path: string, body: unknown) => postJson(url, path, body);
  const push = (fields: Record<string, string>) => pushModel(url, fields);

  beforeAll(async () => {
    dir = tempStoreDir('predict');
    platform = await Platform.start(platformConfig(dir, 'all'), { logger: silentLogger });
    url = platform.httpUrl;
    expect((await post('/v1/apply', definitions)).status).toBe(200);
    expect((await post('/v1/sources/stats/events', { events: events() })).status).toBe(200);
    const clf = await post('/v1/sources/clf_inputs/events', { events: classifierEvents() });
    expect(clf.status, JSON.stringify(clf.body)).toBe(200);
    await pushClassifier(url);
    const v1 = await push({ featureService: 'reg_features', inputs: INPUTS });
    await push({ featureService: 'reg_features', inputs: INPUTS, missing: '{"default": "nan"}' });
    await push({
      featureService: 'reg_features',
      inputs: INPUTS,
      missing: JSON.stringify({ values: { r0: 1, r1: 2, r2: 3, r3: 4, r4: 5 } }),
    });
    await push({});
    expect((await post(`/v1/models/reg/versions/${v1}/stage`, { stage: 'production' })).status).toBe(200);
    await untilReady(url);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('predicts from the online features exactly as the runtime does on the same vectors, in entity order', async () => {
    const { status, body } = await post('/v1/models/reg/predict', { entities: { user_id: [102, 101] } });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.model).toBe('reg');
    expect(body.version).toBe(1);
    expect(body.features).toBeUndefined();
    expect(body.predictions).toEqual(await byHand([ROWS[102]!, ROWS[101]!]));
  });

  it('answers a classifier with probabilities per class and a label per entity, as OIP inference does on the same feature values', async () => {
    const users = [CLF_USERS[2]!, CLF_USERS[0]!, CLF_USERS[1]!];
    const rows = users.map((u) => CLF_ROWS[CLF_USERS.indexOf(u)]!);
    const { status, body } = await post('/v1/models/clf/predict', {
      entities: { user_id: users },
      includeFeatures: true,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect([body.model, body.version, body.predictions]).toEqual(['clf', 1, undefined]);
    expect(body.features).toEqual(
      Object.fromEntries(CLF_FEATURES.map((f, i) => [f, rows.map((row) => row[i])])),
    );
    const direct = await inferClassifier(url, 'clf', rows);
    expect(body.probabilities).toEqual(direct.probabilities);
    expect(body.labels).toEqual(direct.labels);
  });

  it("answers a classifier with XGBoost's own probabilities (float32, 1e-5 relative) and the label they imply", async () => {
    const { status, body } = await post('/v1/models/clf/predict', { entities: { user_id: CLF_USERS } });
    expect(status, JSON.stringify(body)).toBe(200);
    const probabilities = body.probabilities as number[][];
    expect(probabilities.map((p) => p.length)).toEqual(CLF_USERS.map(() => 2));
    probabilities.forEach((p, r) => {
      expect(close(p[1]!, CLF_EXPECTED[r]!, CLASSIFIER), `row ${r}: ${p[1]} vs ${CLF_EXPECTED[r]}`).toBe(
        true,
      );
      expect(close(p[0]!, 1 - CLF_EXPECTED[r]!, CLASSIFIER), `row ${r}: P(class 0) ${p[0]}`).toBe(true);
    });
    expect(body.labels).toEqual(CLF_EXPECTED.map((p) => (p > 0.5 ? 1 : 0)));
    expect(new Set(body.labels as number[]).size).toBe(2);
  });

  it('refuses a missing entity under the default error policy, naming the entity and feature', async () => {
    const { status, body } = await post('/v1/models/reg/predict', { entities: { user_id: [101, 999] } });
    expect(status).toBe(412);
    expect(body.code).toBe('FAILED_PRECONDITION');
    expect(body.error).toContain('user_id=999');
    expect(body.error).toContain('user_stats:r0');
    expect(body.error).toContain('--missing');
  });

  it('passes NaN for missing values under the nan policy, as tree models route missing', async () => {
    const { status, body } = await post('/v1/models/reg/versions/2/predict', {
      entities: { user_id: [999, 101] },
      includeFeatures: true,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.version).toBe(2);
    expect(body.predictions).toEqual(await byHand([FEATURES.map(() => Number.NaN), ROWS[101]!]));
    expect((body.features as Record<string, unknown[]>).r2).toEqual([null, ROWS[101]![2]]);
  });

  it('fills declared default values per feature and reports them with includeFeatures', async () => {
    const { status, body } = await post('/v1/models/reg/versions/3/predict', {
      entities: { user_id: [999] },
      includeFeatures: true,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.predictions).toEqual(await byHand([[1, 2, 3, 4, 5]]));
    expect(body.features).toEqual({ 'user_stats:r0': [1], r1: [2], r2: [3], 'user_stats:r3': [4], r4: [5] });
  });

  it('answers 404 for an unknown model', async () => {
    const { status, body } = await post('/v1/models/nope/predict', { entities: { user_id: [101] } });
    expect(status).toBe(404);
    expect(body.error).toContain('nope');
  });

  it('refuses a version without a feature service, saying how to push one', async () => {
    const { status, body } = await post('/v1/models/reg/versions/4/predict', {
      entities: { user_id: [101] },
    });
    expect(status).toBe(412);
    expect(body.error).toContain('--features');
  });

  it('rejects a malformed missing policy at push time', async () => {
    const form = new FormData();
    form.set('format', 'xgboost');
    form.set('missing', '{"default": "zero"}');
    form.set('file', new Blob([readFileSync(MODEL)]), 'model.json');
    const res = await fetch(`${url}/v1/models/reg/versions`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('missing.default');
  });

  it('stores the missing policy with the version', async () => {
    const res = await fetch(`${url}/v1/models/reg/versions/2`);
    expect(((await res.json()) as { missingPolicy: unknown }).missingPolicy).toEqual({ default: 'nan' });
  });

  it('counts each hydrated prediction in the model stats, a refused one as an error', async () => {
    const stats = async () => {
      const res = await fetch(`${url}/v1/models/reg/stats`);
      const body = (await res.json()) as { versions: Record<string, { requests: number; errors: number }> };
      return body.versions['1'] ?? { requests: 0, errors: 0 };
    };
    const before = await stats();
    expect((await post('/v1/models/reg/predict', { entities: { user_id: [101] } })).status).toBe(200);
    expect((await post('/v1/models/reg/predict', { entities: { user_id: [999] } })).status).toBe(412);
    const after = await stats();
    expect(after.requests - before.requests).toBe(2);
    expect(after.errors - before.errors).toBe(1);
  });
});

describe.runIf(serverAvailable('postgres') && serverAvailable('redis'))(
  'hydrating prediction on a serving target beside a separate features target',
  { timeout: 120_000 },
  () => {
    let postgres: RunningServer;
    let redis: RunningServer;
    const platforms: Platform[] = [];
    const dirs: string[] = [];
    const start = async (target: 'features' | 'serving') => {
      const dir = tempStoreDir(`predict-${target}`);
      dirs.push(dir);
      const stores = { stateStore: postgres.url, onlineStore: redis.url };
      const platform = await Platform.start(platformConfig(dir, target, stores), { logger: silentLogger });
      platforms.push(platform);
      return platform.httpUrl;
    };

    beforeAll(async () => {
      [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    }, 60_000);

    afterAll(async () => {
      for (const platform of platforms) await platform.stop();
      await Promise.all([postgres?.stop(), redis?.stop()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('reads a feature service applied by another process after the serving target started', async () => {
      const serving = await start('serving');
      await pushModel(serving, { featureService: 'reg_features', inputs: INPUTS });
      expect(
        (await postJson(serving, '/v1/models/reg/versions/1/stage', { stage: 'production' })).status,
      ).toBe(200);
      await untilReady(serving);
      const features = await start('features');
      expect((await postJson(features, '/v1/apply', definitions)).status).toBe(200);
      expect((await postJson(features, '/v1/sources/stats/events', { events: events() })).status).toBe(200);
      const { status, body } = await postJson(serving, '/v1/models/reg/predict', {
        entities: { user_id: [101] },
      });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.predictions).toEqual(await byHand([ROWS[101]!]));
    });
  },
);
