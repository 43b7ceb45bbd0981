/**
 * Speed of Meridian's `ks2samp` against SciPy 1.10's own `scipy.stats.ks_2samp` on the same data, in
 * one run and one table: 100k vs 100k (asymptotic p-value; once with a small shift, once without)
 * and 5k vs 5k / 5k vs 4999 (exact p-value). The samples are drawn here from a seeded generator,
 * written as raw float64 files, and SciPy runs in a `/usr/bin/python3` subprocess that times only the
 * `ks_2samp` calls. Both sides also print D and p so the table shows they agree.
 * Run with `npx tsx bench/drift-ks.ts`; BENCH_SECONDS sets the time per measurement (default 1).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../src/demo/random.js';
import { ks2samp } from '../src/monitoring/stats/ks.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

interface BenchCase {
  name: string;
  a: Float64Array;
  b: Float64Array;
}

interface Timing {
  ms: number;
  d: number;
  p: number;
}

/** n normal values with the given mean (Box–Muller). */
function normals(n: number, mean: number, seed: number): Float64Array {
  const u = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const PYTHON = `
import json, sys, time
import numpy as np
from scipy import stats
seconds = float(sys.argv[1])
out = []
for prefix in sys.argv[2:]:
    a = np.fromfile(prefix + ".a", dtype="<f8")
    b = np.fromfile(prefix + ".b", dtype="<f8")
    res = stats.ks_2samp(a, b)
    times = []
    while sum(times) < seconds or len(times) < 3:
        start = time.perf_counter()
        stats.ks_2samp(a, b)
        times.append(time.perf_counter() - start)
    out.append({"ms": float(np.median(times)) * 1000, "d": float(res.statistic), "p": float(res.pvalue)})
print(json.dumps(out))
`;

function scipyTimings(cases: BenchCase[]): Timing[] {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-ks-bench-'));
  try {
    const prefixes = cases.map((c, i) => {
      const prefix = join(dir, String(i));
      writeFileSync(`${prefix}.a`, new Uint8Array(c.a.buffer));
      writeFileSync(`${prefix}.b`, new Uint8Array(c.b.buffer));
      return prefix;
    });
    const stdout = execFileSync('/usr/bin/python3', ['-c', PYTHON, String(SECONDS), ...prefixes], {
      encoding: 'utf8',
    });
    return JSON.parse(stdout) as Timing[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function meridianTiming(c: BenchCase): Timing {
  const result = ks2samp(c.a, c.b);
  const times: number[] = [];
  while (times.reduce((s, t) => s + t, 0) < SECONDS * 1000 || times.length < 3) {
    const start = process.hrtime.bigint();
    ks2samp(c.a, c.b);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((x, y) => x - y);
  return {
    ms: times[Math.floor(times.length / 2)] as number,
    d: result.score,
    p: result.pValue ?? Number.NaN,
  };
}

function main(): void {
  const cases: BenchCase[] = [
    {
      name: '100k vs 100k, shift 0.02 (asymptotic)',
      a: normals(100_000, 0, 1),
      b: normals(100_000, 0.02, 2),
    },
    { name: '100k vs 100k, no shift (asymptotic)', a: normals(100_000, 0, 3), b: normals(100_000, 0, 4) },
    { name: '5k vs 5k, shift 0.05 (exact)', a: normals(5000, 0, 5), b: normals(5000, 0.05, 6) },
    { name: '5k vs 4999, shift 0.05 (exact)', a: normals(5000, 0, 7), b: normals(4999, 0.05, 8) },
  ];
  const ours = cases.map(meridianTiming);
  const theirs = scipyTimings(cases);
  console.log('ks2samp vs scipy 1.10 ks_2samp, median wall-clock ms per call');
  console.log(
    `(BENCH_SECONDS=${SECONDS} per measurement; load average at the end ${loadavg()[0]?.toFixed(1)})\n`,
  );
  console.log(
    '| case | Meridian ms | scipy ms | Meridian / scipy time | D (Meridian / scipy) | p (Meridian / scipy) |',
  );
  console.log('|---|---:|---:|---:|---|---|');
  cases.forEach((c, i) => {
    const o = ours[i] as Timing;
    const t = theirs[i] as Timing;
    const ratio = `${(o.ms / t.ms).toFixed(2)}x`;
    const d = `${o.d} / ${t.d}`;
    const p = `${o.p.toExponential(6)} / ${t.p.toExponential(6)}`;
    console.log(`| ${c.name} | ${o.ms.toFixed(2)} | ${t.ms.toFixed(2)} | ${ratio} | ${d} | ${p} |`);
  });
}

main();
