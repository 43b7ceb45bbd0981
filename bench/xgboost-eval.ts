/**
 * Raw tree-evaluation speed of Meridian's XGBoost runtime against xgboost's own C++ predictor (the
 * physical reference), on the benchmark model (100 trees, depth 6, 20 features,
 * binary:logistic) and the same 200 rows, in one run and one table. xgboost runs in a
 * `/usr/bin/python3` subprocess (Debian's python3-xgboost 1.7) that times only the
 * `Booster.inplace_predict` calls. Both sides: batches of 200 rows and single rows.
 * Run with `npx tsx bench/xgboost-eval.ts`; BENCH_SECONDS sets the time per measurement (default 2).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputBatch } from '../src/serving/runtimes/model.js';
import { loadXgboostModel } from '../src/serving/runtimes/xgboost.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/xgboost/bench');

interface Rates {
  batch: number;
  single: number;
}

const PYTHON = `
import json, sys, time
import numpy as np, xgboost as xgb
seconds = float(sys.argv[2])
booster = xgb.Booster(model_file=sys.argv[1] + "/model.json")
x = np.genfromtxt(sys.argv[1] + "/inputs.csv", delimiter=",", skip_header=1, dtype=np.float32)
rows = [x[i:i + 1] for i in range(len(x))]

def rate(call, rows_per_call):
    calls, spent = 0, 0.0
    while spent < seconds:
        start = time.perf_counter()
        for _ in range(50):
            call()
        spent += time.perf_counter() - start
        calls += 50
    return calls * rows_per_call / spent

def single():
    for r in rows:
        booster.inplace_predict(r)

out = {}
for threads in (1, 2):
    booster.set_param({"nthread": threads})
    booster.inplace_predict(x)
    out[threads] = {"batch": rate(lambda: booster.inplace_predict(x), len(x)), "single": rate(single, len(x))}
print(json.dumps(out))
`;

function xgboostRates(): Record<'1' | '2', Rates> {
  const stdout = execFileSync('/usr/bin/python3', ['-c', PYTHON, DIR, String(SECONDS / 2)], {
    encoding: 'utf8',
  });
  return JSON.parse(stdout);
}

/** Rows per second of `call` (which predicts `rowsPerCall` rows), run for about SECONDS/2. */
async function rate(call: () => Promise<unknown>, rowsPerCall: number): Promise<number> {
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < SECONDS / 2) {
    for (let i = 0; i < 50; i++) await call();
    calls += 50;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (calls * rowsPerCall) / elapsed;
}

async function meridianRates(): Promise<Rates> {
  const model = await loadXgboostModel(readFileSync(join(DIR, 'model.json')));
  const lines = readFileSync(join(DIR, 'inputs.csv'), 'utf8').trim().split('\n').slice(1);
  const cells = lines.flatMap((l) => l.split(',').map((c) => (c === '' ? Number.NaN : Number(c))));
  const all: InputBatch = { rows: lines.length, values: Float32Array.from(cells) };
  const f = model.signature.featureCount;
  const singles = lines.map((_, r) => ({ rows: 1, values: all.values.subarray(r * f, r * f + f) }));
  await rate(() => model.predict(all), all.rows);
  const batch = await rate(() => model.predict(all), all.rows);
  const single = await rate(async () => {
    for (const row of singles) await model.predict(row);
  }, singles.length);
  return { batch, single };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const ours = await meridianRates();
  const theirs = xgboostRates();
  const rows: [string, Rates][] = [
    ['Meridian TS evaluator (1 thread)', ours],
    ['xgboost 1.7 inplace_predict, nthread=1', theirs['1']],
    ['xgboost 1.7 inplace_predict, nthread=2', theirs['2']],
  ];
  console.log('XGBoost evaluation, bench model (100 trees, depth 6, 20 features), 200 rows, rows/s');
  console.log(`(wall clock; load average at the end ${loadavg()[0]!.toFixed(1)} on this machine)\n`);
  console.log('| evaluator | batch of 200 | single row |');
  console.log('|---|---:|---:|');
  for (const [name, r] of rows) console.log(`| ${name} | ${fmt(r.batch)} | ${fmt(r.single)} |`);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(
    `| Meridian / xgboost nthread=1 | ${ratio(ours.batch, theirs['1'].batch)} | ${ratio(ours.single, theirs['1'].single)} |`,
  );
  console.log(
    `| Meridian / xgboost nthread=2 | ${ratio(ours.batch, theirs['2'].batch)} | ${ratio(ours.single, theirs['2'].single)} |`,
  );
}

await main();
