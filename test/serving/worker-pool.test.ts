import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { type ModelPool, startModelPool } from '../../src/serving/pool/model-pool.js';
import { pooledModel } from '../../src/serving/pool/pooled-model.js';
import { loadModel } from '../../src/serving/runtimes/index.js';
import type { InputBatch, LoadedModel, Prediction } from '../../src/serving/runtimes/model.js';
import { fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import { expectCode } from '../helpers/errors.js';
import { inferBody, type ServedPlatform, startServedPlatform } from './served-platform.js';

const pools: ModelPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function fixture(name: string) {
  const model = fixtureModels().find((f) => f.name === name);
  if (!model) throw new Error(`fixture ${name} is missing`);
  return {
    ...model,
    bytes: new Uint8Array(readFileSync(model.modelPath)),
    rows: readNumericCsv(model.inputsCsv),
  };
}

function batchOf(rows: number[][]): InputBatch {
  return { rows: rows.length, values: Float64Array.from(rows.flat()) };
}

async function start(name: string, options: { min: number; max: number; idleMs?: number }) {
  const f = fixture(name);
  const inline = await loadModel(f.format, f.bytes);
  const warmUpRow = new Array<number>(inline.signature.featureCount).fill(Number.NaN);
  const pool = await startModelPool(
    { format: f.format, bytes: f.bytes, warmUpRow },
    { minWorkers: options.min, maxWorkers: options.max, idleTimeoutMs: options.idleMs ?? 30_000 },
    silentLogger,
  );
  pools.push(pool);
  return { f, inline, pool };
}

/** The prediction's arrays as plain numbers; the pool's queue time is checked apart. */
function plain({ queueSeconds, ...arrays }: Prediction): Record<string, number[]> {
  if (queueSeconds !== undefined) expect(queueSeconds).toBeGreaterThanOrEqual(0);
  return Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)]));
}

describe('a model version worker pool', () => {
  it('reports itself started only with its minimum threads loaded and warm', async () => {
    const { pool } = await start('xgboost-binary', { min: 2, max: 2 });
    expect(pool.threads).toBe(2);
  });

  for (const name of ['xgboost-multiclass', 'lightgbm-binary_categorical', 'onnx-random-forest-multiclass']) {
    it(`answers exactly what the model answers on the serving thread (${name})`, async () => {
      const { f, inline, pool } = await start(name, { min: 1, max: 1 });
      const batch = batchOf(f.rows);
      expect(plain(await pool.predict(batch))).toEqual(plain(await inline.predict(batch)));
      await inline.close();
    });
  }

  it('answers a batch of the wrong width with INVALID_ARGUMENT and keeps serving', async () => {
    const { f, pool } = await start('xgboost-binary', { min: 1, max: 1 });
    const bad = { rows: 2, values: new Float64Array(3) };
    const err = await expectCode(pool.predict(bad), 'INVALID_ARGUMENT');
    expect(err.message).toMatch(/input/);
    const answer = await pool.predict(batchOf(f.rows.slice(0, 1)));
    expect(answer.probabilities?.length).toBe(2);
  });

  it('adds threads up to its maximum under concurrent load and lets the extra ones go when idle', async () => {
    const { f, pool } = await start('xgboost-binary', { min: 1, max: 2, idleMs: 200 });
    const big = batchOf(Array.from({ length: 200 }, (_, i) => f.rows[i % f.rows.length]!));
    let peak = 0;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        await pool.predict(big);
        peak = Math.max(peak, pool.threads);
      }),
    );
    expect(peak).toBe(2);
    const deadline = Date.now() + 10_000;
    while (pool.threads > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pool.threads).toBe(1);
  });

  it('refuses to start when its threads cannot load the model', async () => {
    const garbage = new TextEncoder().encode('{"not": "a model"}');
    const started = startModelPool(
      { format: 'xgboost', bytes: garbage, warmUpRow: [0] },
      { minWorkers: 1, maxWorkers: 1, idleTimeoutMs: 1000, startTimeoutMs: 20_000 },
      silentLogger,
    );
    const err = await expectCode(started, 'FAILED_PRECONDITION');
    expect(err.message).toMatch(/worker thread could not load/);
  });
});

describe('a pooled model', () => {
  it('runs batches below poolRows on the serving thread and larger ones on its pool', async () => {
    const { f, inline, pool } = await start('xgboost-binary', { min: 1, max: 1 });
    let inlineCalls = 0;
    const counted: LoadedModel = {
      format: inline.format,
      signature: inline.signature,
      predict: (batch) => {
        inlineCalls++;
        return inline.predict(batch);
      },
      close: () => inline.close(),
    };
    const model = pooledModel(counted, pool, 10);
    const small = await model.predict(batchOf(f.rows.slice(0, 9)));
    expect(inlineCalls).toBe(1);
    const large = await model.predict(batchOf(f.rows.slice(0, 10)));
    expect(inlineCalls).toBe(1);
    expect(Array.from(large.probabilities!).slice(0, 18)).toEqual(Array.from(small.probabilities!));
    await model.close();
    expect(pool.threads).toBe(0);
  });
});

describe('serving through worker pools', () => {
  let served: ServedPlatform;
  beforeAll(async () => {
    served = await startServedPlatform('worker-pool', {
      serving: { workers: 2, minWorkers: 2, poolRows: 2 },
    });
  }, 60_000);
  afterAll(() => served?.stop());

  it('answers OIP v2 batches from the pool exactly as the library predicted', async () => {
    const { platform, model, rows } = served;
    const expected = readNumericCsv(model.predictionsCsv);
    const response = await fetch(`${platform.httpUrl}/v2/models/${model.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: inferBody(rows),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { outputs: { name: string; data: number[] }[] };
    const probabilities = body.outputs.find((o) => o.name === 'probabilities')!.data;
    expect(probabilities).toHaveLength(expected.length * 2);
    expected.forEach((row, i) => {
      const p1 = row[row.length - 1]!;
      expect(Math.abs(probabilities[i * 2 + 1]! - p1)).toBeLessThanOrEqual(
        model.atol + model.rtol * Math.abs(p1),
      );
    });
  });
});
