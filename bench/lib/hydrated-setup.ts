/**
 * What the hydrated prediction benchmark serves: 10 000 entities of 10 float features in a feature
 * service, and the XGBoost model of test/fixtures/xgboost/hydrated (60 trees, depth 5, inputs h0..h9,
 * made by scripts/fixtures/xgboost_hydrated.py) pushed and promoted on that service.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seededRandom } from '../../src/demo/random.js';

const FIXTURE = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'xgboost', 'hydrated');
export const MODEL = 'churn_hydrated';
export const SERVICE = 'hydrated_features';
export const FEATURES = Array.from({ length: 10 }, (_, i) => `h${i}`);
export const ENTITIES = 10_000;
export const PER_REQUEST = 100;
const BODIES = 4;

const definitions = {
  entities: [{ name: 'user', joinKeys: ['user_id'] }],
  sources: [
    {
      name: 'profiles',
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
      name: 'user_profile',
      entities: ['user'],
      source: 'profiles',
      features: Object.fromEntries(FEATURES.map((f) => [f, 'float64'])),
    },
  ],
  featureServices: [{ name: SERVICE, features: ['user_profile:*'] }],
};

function csvRows(file: string): number[][] {
  const lines = readFileSync(join(FIXTURE, file), 'utf8').trim().split('\n');
  return lines.map((line) => line.split(',').map(Number));
}

/** Entity i's features: the fixture's test rows first (so predictions can be checked), then seeded noise. */
function entityRows(): number[][] {
  const fixture = csvRows('inputs.csv').slice(1);
  const next = seededRandom(7);
  return Array.from(
    { length: ENTITIES },
    (_, i) => fixture[i] ?? FEATURES.map(() => (next() + next() + next() - 1.5) * 2),
  );
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Applies the definitions and pushes every entity's features, 1000 events a request. */
export async function loadEntities(url: string): Promise<void> {
  await postJson(`${url}/v1/apply`, definitions);
  const rows = entityRows();
  const ts = new Date(Date.now() - 1000).toISOString();
  for (let start = 0; start < ENTITIES; start += 1000) {
    const events = rows.slice(start, start + 1000).map((row, k) => ({
      user_id: start + k,
      ts,
      ...Object.fromEntries(FEATURES.map((f, j) => [f, row[j]])),
    }));
    await postJson(`${url}/v1/sources/profiles/events`, { events });
  }
}

/** Pushes the model on the feature service and promotes it to production. */
export async function pushAndPromote(url: string): Promise<void> {
  const form = new FormData();
  form.set('format', 'xgboost');
  form.set('featureService', SERVICE);
  form.set('file', new Blob([readFileSync(join(FIXTURE, 'model.json'))]), 'model.json');
  const pushed = await fetch(`${url}/v1/models/${MODEL}/versions`, { method: 'POST', body: form });
  if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status} ${await pushed.text()}`);
  const { version } = (await pushed.json()) as { version: number };
  await postJson(`${url}/v1/models/${MODEL}/versions/${version}/stage`, { stage: 'production' });
  await untilReady(url);
}

/** Waits until the production version is loaded and warm. */
export async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${url}/v2/models/${MODEL}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`model ${MODEL} never became ready at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The hydrated predictions of the fixture's entities must be XGBoost's own (float32: 1e-5 relative). */
export async function checkPredictions(url: string): Promise<void> {
  const expected = csvRows('predictions.csv').map((row) => row[0]!);
  const ids = Array.from({ length: PER_REQUEST }, (_, i) => i);
  const answer = (await postJson(`${url}/v1/models/${MODEL}/predict`, { entities: { user_id: ids } })) as {
    probabilities: number[][];
  };
  for (const id of ids) {
    const got = answer.probabilities[id]![1]!;
    if (Math.abs(got - expected[id]!) > 1e-5 * Math.abs(expected[id]!)) {
      throw new Error(`entity ${id}: predicted ${got}, XGBoost predicts ${expected[id]}`);
    }
  }
}

export interface Target {
  url: string;
  bodies: string[];
}

/** The predict route and the plain online read of the service, each with the same `BODIES` lists of 100 ids. */
export function targets(url: string): { predict: Target; online: Target } {
  const next = seededRandom(11);
  const lists = Array.from({ length: BODIES }, () =>
    Array.from({ length: PER_REQUEST }, () => Math.floor(next() * ENTITIES)),
  );
  return {
    predict: {
      url: `${url}/v1/models/${MODEL}/predict`,
      bodies: lists.map((ids) => JSON.stringify({ entities: { user_id: ids } })),
    },
    online: {
      url: `${url}/v1/features/online`,
      bodies: lists.map((ids) => JSON.stringify({ featureService: SERVICE, entities: { user_id: ids } })),
    },
  };
}

/** A server process's user + system CPU so far in µs, all threads (from /proc, in 10 ms clock ticks). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
