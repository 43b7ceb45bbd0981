/**
 * Where a batch should run: on the serving thread or on the version's worker pool. For batch sizes
 * from 1 to 10 000 rows of the serving benchmark's XGBoost model (100 trees, depth 6, 20 features),
 * the serving thread's busy time per batch inline against the same batch sent to a one-thread pool
 * (the hop, the copy and the answer), measured with the event loop's utilization. The row count where
 * the pool starts to cost the serving thread less is the `serving.poolRows` default.
 * Run with `npx tsx bench/pool-rows.ts`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/core/logger.js';
import { startModelPool } from '../src/serving/pool/model-pool.js';
import { loadModel } from '../src/serving/runtimes/index.js';
import type { InputBatch, LoadedModel } from '../src/serving/runtimes/model.js';

const FIXTURE = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'xgboost', 'bench');
const SIZES = [1, 10, 50, 100, 200, 500, 1000, 10_000];

function batchOf(rows: number, width: number): InputBatch {
  const values = new Float64Array(rows * width);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 100;
  return { rows, values };
}

/** Busy µs of the serving thread per batch, and wall µs per batch, over `seconds` of back-to-back calls. */
async function measure(predict: (b: InputBatch) => Promise<unknown>, batch: InputBatch, seconds = 1) {
  for (let i = 0; i < 20; i++) await predict(batch);
  const start = performance.eventLoopUtilization();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await predict(batch);
    n++;
  }
  const elapsed = performance.now() - t0;
  const elu = performance.eventLoopUtilization(start);
  return { busyUs: (elu.active * 1000) / n, wallUs: (elapsed * 1000) / n };
}

const bytes = new Uint8Array(readFileSync(join(FIXTURE, 'model.json')));
const inline: LoadedModel = await loadModel('xgboost', bytes);
const width = inline.signature.featureCount;
const pool = await startModelPool(
  { format: 'xgboost', bytes, warmUpRow: new Array(width).fill(Number.NaN) },
  { minWorkers: 1, maxWorkers: 1, idleTimeoutMs: 60_000 },
  silentLogger,
);
console.log(
  'rows    inline busy µs  pool busy µs  inline wall µs  pool wall µs  serving thread: pool / inline',
);
for (const rows of SIZES) {
  const batch = batchOf(rows, width);
  const a = await measure((b) => inline.predict(b), batch);
  const b = await measure((x) => pool.predict(x), batch);
  console.log(
    [
      String(rows).padEnd(7),
      a.busyUs.toFixed(1).padStart(14),
      b.busyUs.toFixed(1).padStart(13),
      a.wallUs.toFixed(1).padStart(15),
      b.wallUs.toFixed(1).padStart(13),
      (b.busyUs / a.busyUs).toFixed(2).padStart(8),
    ].join('  '),
  );
}
await pool.close();
await inline.close();
