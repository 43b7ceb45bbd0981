/**
 * Hydrated prediction benchmark, loopback only: `POST /v1/models/{name}/predict` with 100 entity ids
 * per request against `meridian up` on embedded defaults (LMDB online store), an XGBoost classifier
 * over 10 float features of 10 000 entities (bench/lib/hydrated-setup.ts). Beside it, with the same
 * wrk, bodies and connections, the plain online read of the same 100 x 10 features
 * (`POST /v1/features/online` with the service), alternating round by round so load on the shared
 * machine hits both alike: the gap is what building the inputs, inference and the prediction log cost.
 * Server CPU per request is read from /proc, each round counted until the server is quiet again (the
 * prediction log works in the background). Saturating clients wait on each other (latency is
 * 50 / throughput), so a paced run follows: 50 clients offering half the predict capacity in total.
 * The last rows run predict on `--target serving` over the same data directory: the prediction log is
 * still published there, but its offline sink (which the `all` target runs in the serving process) is not.
 * Run alone with `npm run bench:hydrated`, or as the last table of `npm run bench:serving`.
 * BENCH_SECONDS sets each route's time per concurrency (default 6); BENCH_CPU_PROF=<dir> adds a
 * profiled predict-only run whose server CPU profile is written there (bench/lib/cpu-profile.mjs).
 */
import { realpathSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { startMeridian } from '../test/helpers/meridian-process.js';
import { tempStoreDir } from '../test/helpers/servers.js';
import {
  checkPredictions,
  cpuMicros,
  ENTITIES,
  FEATURES,
  loadEntities,
  PER_REQUEST,
  pushAndPromote,
  type Target,
  targets,
  untilReady,
} from './lib/hydrated-setup.js';
import { ensureWrk, type WrkResult, wrkPost } from './lib/wrk.js';

const CONCURRENCY = [1, 10, 50];
const ROUNDS = 3;
const GOAL_P99_MS = 10;

interface Measured extends WrkResult {
  cpuPerRequest: number;
}

/**
 * Waits (at most 10 s) until the server has used under a fifth of a core for a quarter second: the
 * prediction log is appended in the background, and its backlog would otherwise run into, and be
 * billed to, the next round.
 */
async function settle(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const before = cpuMicros(pid);
    await new Promise((r) => setTimeout(r, 250));
    if (cpuMicros(pid) - before <= 50_000 || Date.now() > deadline) return;
  }
}

/**
 * Runs wrk against each target in alternating rounds, each round's CPU counted until the server is
 * quiet again. Rates are means, p50/p99 the median round's.
 */
async function alternating(pid: number, list: Target[], connections: number, seconds: number, delayMs = 0) {
  const roundSeconds = Math.max(1, Math.round(seconds / ROUNDS));
  const runs: WrkResult[][] = list.map(() => []);
  const cpu = list.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [t, { url, bodies }] of list.entries()) {
      const before = cpuMicros(pid);
      runs[t]!.push(await wrkPost(url, bodies, connections, roundSeconds, delayMs));
      await settle(pid);
      cpu[t]! += cpuMicros(pid) - before;
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return runs.map((rs, t): Measured => {
    const rps = rs.reduce((s, x) => s + x.rps, 0) / rs.length;
    return {
      rps,
      p50: median(rs.map((x) => x.p50)),
      p99: median(rs.map((x) => x.p99)),
      errors: rs.reduce((s, x) => s + x.errors, 0),
      cpuPerRequest: rps > 0 ? cpu[t]! / (rps * roundSeconds * ROUNDS) : Number.NaN,
    };
  });
}

function row(clients: string, route: string, m: Measured, note: string): string[] {
  const ms = (x: number) => x.toFixed(2);
  const cpu = Number.isFinite(m.cpuPerRequest) ? String(Math.round(m.cpuPerRequest)) : '-';
  return [clients, route, `${Math.round(m.rps)} req/s`, ms(m.p50), ms(m.p99), cpu, note];
}

/** Predict against the online read at each concurrency; the p99 of predict at 50 clients. */
async function measure(url: string, pid: number, seconds: number) {
  const { predict, online } = targets(url);
  await wrkPost(predict.url, predict.bodies, 10, 2); // warm-up: JIT, caches, connections
  await wrkPost(online.url, online.bodies, 10, 1);
  const rows: string[][] = [];
  let p99 = Number.NaN;
  let capacity = 0;
  const pair = (clients: string, p: Measured, o: Measured) => {
    const extra = Math.round(p.cpuPerRequest - o.cpuPerRequest);
    const share = `${((100 * p.rps) / o.rps).toFixed(0)}% of the online read's rate`;
    rows.push(row(clients, 'predict (hydrated)', p, `${share}, +${extra} µs CPU/req; errors ${p.errors}`));
    rows.push(row(clients, 'online read only', o, `same 100 x 10 features; errors ${o.errors}`));
  };
  for (const c of CONCURRENCY) {
    const [p, o] = (await alternating(pid, [predict, online], c, seconds)) as [Measured, Measured];
    if (c === 50 && p.rps > 0) [p99, capacity] = [p.p99, p.rps];
    pair(`c=${c}`, p, o);
  }
  // Saturated, 50 connections wait on each other (latency = 50 / throughput); paced clients offering
  // half the predict capacity show the latency of the work itself under load.
  const delayMs = capacity > 0 ? (50 * 1000) / (capacity / 2) : 1000;
  const [p, o] = (await alternating(pid, [predict, online], 50, seconds, delayMs)) as [Measured, Measured];
  pair(`c=50 paced ${Math.round(delayMs)} ms`, p, o);
  if (process.env.BENCH_CPU_PROF) rows.push(await profiled(pid, predict, seconds));
  return { rows, p99, delayMs, pacedP99: p.rps > 0 ? p.p99 : Number.NaN, dropped: await droppedLogRows(url) };
}

/** Prediction log rows dropped so far because its buffer was full (the log could not keep up). */
async function droppedLogRows(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith('meridian_prediction_log_dropped_total{'));
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * A predict-only run at 50 clients with the server's CPU profiler on from a quiet server until it is
 * quiet again, so the profile holds all of the prediction log's cost and nothing else's.
 */
async function profiled(pid: number, predict: Target, seconds: number): Promise<string[]> {
  await settle(pid);
  const before = cpuMicros(pid);
  process.kill(pid, 'SIGUSR2');
  const run = await wrkPost(predict.url, predict.bodies, 50, seconds);
  await settle(pid);
  process.kill(pid, 'SIGUSR2');
  const requests = Math.round(run.rps * seconds);
  const measured = { ...run, cpuPerRequest: (cpuMicros(pid) - before) / requests };
  return row(
    'c=50',
    'predict, profiled',
    measured,
    `${requests} requests; profile in ${process.env.BENCH_CPU_PROF}`,
  );
}

/** Predict at 50 clients on `--target serving` over the same data: the log published, its sink elsewhere. */
async function servingTargetRows(dir: string, seconds: number, delayMs: number): Promise<string[][]> {
  const meridian = await startMeridian(
    ['--target', 'serving', '--data-dir', dir, '--http-port', '0', '--grpc-port', '0'],
    { MERIDIAN_LOG_LEVEL: 'warn' },
  );
  try {
    await untilReady(meridian.httpUrl);
    await checkPredictions(meridian.httpUrl);
    const { predict } = targets(meridian.httpUrl);
    await wrkPost(predict.url, predict.bodies, 10, 2);
    const pid = meridian.child.pid!;
    const [p] = (await alternating(pid, [predict], 50, seconds)) as [Measured];
    const [paced] = (await alternating(pid, [predict], 50, seconds, delayMs)) as [Measured];
    const note = (m: Measured) => `no offline sink in this process; errors ${m.errors}`;
    return [
      row('c=50', 'predict, --target serving', p, note(p)),
      row(`c=50 paced ${Math.round(delayMs)} ms`, 'predict, --target serving', paced, note(paced)),
    ];
  } finally {
    await meridian.stop();
  }
}

function verdict(p99: number): string {
  const met = !(p99 > 0) ? 'NOT MEASURED' : p99 < GOAL_P99_MS ? 'MET' : 'NOT MET';
  return `${met} (p99 ${p99.toFixed(2)} ms)`;
}

function print(
  rows: string[][],
  seconds: number,
  measured: { p99: number; pacedP99: number; dropped: number },
) {
  const { p99, pacedP99, dropped } = measured;
  console.log(
    `hydrated prediction bench: ${PER_REQUEST} entities x ${FEATURES.length} features per request (4 bodies in turn), ` +
      `${ENTITIES} entities in LMDB, XGBoost 60 trees depth 5; ${cpus().length} cores shared by server and wrk; ` +
      `${seconds}s per route per concurrency in ${ROUNDS} alternating rounds; CPU µs/req: the server process, all threads`,
  );
  const all = [['clients', 'route', 'throughput', 'p50 ms', 'p99 ms', 'CPU µs/req', 'note'], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const [n, r] of all.entries()) {
    console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(
    `goal: hydrated predict p99 < ${GOAL_P99_MS} ms at 50 clients (target all): saturating ${verdict(p99)}; ` +
      `paced ${verdict(pacedP99)}. Saturated, latency is 50 / throughput: under 10 ms needs over 5000 req/s`,
  );
  console.log(`prediction log rows dropped (buffer full) on target all: ${dropped}`);
}

/** Starts `meridian up` on embedded defaults, runs the hydrated benchmark and prints its table. */
export async function hydratedBench(seconds = Number(process.env.BENCH_SECONDS ?? 6)): Promise<void> {
  ensureWrk();
  const dir = tempStoreDir('bench-hydrated');
  const profile = process.env.BENCH_CPU_PROF;
  const profiling = profile
    ? {
        NODE_OPTIONS: `--import ${resolve(import.meta.dirname, 'lib', 'cpu-profile.mjs')}`,
        MERIDIAN_CPU_PROFILE_DIR: resolve(profile),
      }
    : {};
  try {
    const meridian = await startMeridian(['--data-dir', dir, '--http-port', '0', '--grpc-port', '0'], {
      MERIDIAN_LOG_LEVEL: 'warn',
      ...profiling,
    });
    let measured: Awaited<ReturnType<typeof measure>>;
    try {
      await loadEntities(meridian.httpUrl);
      await pushAndPromote(meridian.httpUrl);
      await checkPredictions(meridian.httpUrl);
      measured = await measure(meridian.httpUrl, meridian.child.pid!, seconds);
    } finally {
      await meridian.stop();
    }
    measured.rows.push(...(await servingTargetRows(dir, seconds, measured.delayMs)));
    print(measured.rows, seconds, measured);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(import.meta.filename)) {
  await hydratedBench();
}
