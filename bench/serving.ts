/**
 * Model serving benchmark, loopback only, one table: single-row inference of an XGBoost model
 * (100 trees, depth 6, 20 features: test/fixtures/xgboost/bench) at 1, 10 and 50 concurrent clients,
 * - over REST against `meridian up` and against the server a user would otherwise write (FastAPI +
 *   uvicorn + xgboost `inplace_predict`, bench/peers/xgboost_fastapi.py), same wrk, same body,
 *   the two alternating per concurrency so load on the shared machine hits both alike;
 * - over gRPC (OIP v2 ModelInfer with raw contents) from an in-process grpc-js client, for which the
 *   peer has no counterpart.
 * A second table (bench/hydrated.ts) measures hydrated prediction, 100 entities from the online
 *   store per request, against the plain online read of the same features.
 * The raw tree evaluation against xgboost's own C++ predict is `npx tsx bench/xgboost-eval.ts`.
 * Run with `npm run bench:serving`; BENCH_SECONDS sets each run's length (default 5),
 * BENCH_PEER_WORKERS the uvicorn workers (default 1; see the printed note).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { inferenceServiceClass } from '../src/api/oip-grpc.js';
import { startMeridian } from '../test/helpers/meridian-process.js';
import { freePort, tempStoreDir, waitForPort } from '../test/helpers/servers.js';
import { hydratedBench } from './hydrated.js';
import { ensureWrk, wrkPost } from './lib/wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PEER_WORKERS = Number(process.env.BENCH_PEER_WORKERS ?? 1);
const CONCURRENCY = [1, 10, 50];
const FIXTURE = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'xgboost', 'bench');
const MODEL = 'churn_bench';

/** The first fixture row, NaN as null, the way a JSON client sends a missing value. */
function firstRow(): (number | null)[] {
  const line = readFileSync(join(FIXTURE, 'inputs.csv'), 'utf8').split('\n')[1]!;
  return line.split(',').map((cell) => (cell === '' ? null : Number(cell)));
}

function inferBody(row: (number | null)[]): string {
  return JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, row.length], data: row }] });
}

async function pushAndPromote(url: string): Promise<void> {
  const form = new FormData();
  form.set('format', 'xgboost');
  form.set('file', new Blob([readFileSync(join(FIXTURE, 'model.json'))]), 'model.json');
  const pushed = await fetch(`${url}/v1/models/${MODEL}/versions`, { method: 'POST', body: form });
  if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status} ${await pushed.text()}`);
  const { version } = (await pushed.json()) as { version: number };
  const staged = await fetch(`${url}/v1/models/${MODEL}/versions/${version}/stage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stage: 'production' }),
  });
  if (staged.status !== 200) throw new Error(`promote failed: ${staged.status}`);
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${url}/v2/models/${MODEL}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the model never became ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startPeer(port: number): Promise<ChildProcess> {
  const script = resolve(import.meta.dirname, 'peers', 'xgboost_fastapi.py');
  const child = spawn(
    '/usr/bin/python3',
    [script, join(FIXTURE, 'model.json'), String(port), String(PEER_WORKERS)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitForPort(port, 30_000);
  return child;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `clients` concurrent unary ModelInfer loops for `seconds`; latencies in ms. */
async function grpcLoad(
  address: string,
  row: (number | null)[],
  clients: number,
  seconds: number,
): Promise<Run> {
  const Service = inferenceServiceClass();
  const client = new Service(address, grpc.credentials.createInsecure()) as unknown as {
    modelInfer(req: unknown, cb: (err: grpc.ServiceError | null) => void): void;
    close(): void;
  };
  const raw = Buffer.from(new Float32Array(row.map((v) => (v === null ? Number.NaN : v))).buffer);
  const request = {
    model_name: MODEL,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, row.length] }],
    raw_input_contents: [raw],
  };
  const call = () => new Promise<boolean>((done) => client.modelInfer(request, (err) => done(err === null)));
  for (let i = 0; i < 200; i++) await call();
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        if (!(await call())) errors++;
        latencies.push(performance.now() - started);
      }
    }),
  );
  client.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors };
}

const fmt = (r: Run) => [`${Math.round(r.rps)} req/s`, r.p50.toFixed(2), r.p99.toFixed(2)];

async function main(): Promise<void> {
  ensureWrk();
  const dir = tempStoreDir('bench-serving');
  const meridian = await startMeridian(['--data-dir', dir, '--http-port', '0', '--grpc-port', '0'], {
    MERIDIAN_LOG_LEVEL: 'warn',
  });
  const peerPort = await freePort();
  const peer = await startPeer(peerPort);
  try {
    await pushAndPromote(meridian.httpUrl);
    const row = firstRow();
    const body = inferBody(row);
    const ours = `${meridian.httpUrl}/v2/models/${MODEL}/infer`;
    const theirs = `http://127.0.0.1:${peerPort}/v2/models/${MODEL}/infer`;
    await wrkPost(ours, body, 10, 1);
    await wrkPost(theirs, body, 10, 1);
    const rows: string[][] = [];
    for (const c of CONCURRENCY) {
      const a = await wrkPost(ours, body, c, SECONDS);
      const b = await wrkPost(theirs, body, c, SECONDS);
      const ratio = `${(a.rps / b.rps).toFixed(2)}x peer throughput, p99 ${a.p99 <= b.p99 ? 'lower' : 'HIGHER'}`;
      rows.push([`REST c=${c}`, 'meridian', ...fmt(a), `${ratio}; errors ${a.errors}`]);
      rows.push([`REST c=${c}`, `fastapi+uvicorn(${PEER_WORKERS})`, ...fmt(b), `errors ${b.errors}`]);
    }
    for (const c of CONCURRENCY) {
      const g = await grpcLoad(meridian.grpcAddress, row, c, SECONDS);
      rows.push([
        `gRPC c=${c}`,
        'meridian',
        ...fmt(g),
        `raw contents; client in the bench process; errors ${g.errors}`,
      ]);
    }
    print(rows);
  } finally {
    peer.kill('SIGTERM');
    await meridian.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log();
  await hydratedBench(SECONDS);
}

function print(rows: string[][]): void {
  console.log(
    `serving bench: XGBoost 100 trees depth 6, 20 features, one row per request; ${cpus().length} cores shared by server, peer and load generator; ${SECONDS}s per run; goal >= 3x peer throughput with a lower p99`,
  );
  const all = [['test', 'server', 'throughput', 'p50 ms', 'p99 ms', 'note'], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const [n, r] of all.entries()) {
    console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

await main();
