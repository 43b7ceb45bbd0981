/**
 * Dispatch overhead of the orchestrator against raw pg-boss, in the same run on the same
 * PostgreSQL 15 (fsync off, as the tests start it): 4 worker processes (BENCH_WORKERS) with one
 * step at a time each (BENCH_CONCURRENCY) pull no-op work.
 *
 * - raw pg-boss: the bench process sends BENCH_STEPS (default 10,000) jobs one `boss.send` at a
 *   time; each worker runs fetch-one/complete loops (bench/lib/raw-boss-worker.ts).
 * - Meridian: the bench process triggers BENCH_STEPS / 100 runs of `bench-fanout`, 100 independent
 *   no-op steps each, one trigger at a time; the workers are `meridian worker` processes. 100 runs
 *   of 100 steps rather than one run of 10,000: sibling completions of one run serialize on the
 *   run's row by design, so one giant run measures that lock, not dispatch; many mid-sized runs
 *   are what a scheduler produces.
 * - 1000-step dispatch: one run of 1000 no-op steps (one send of 1000 jobs for raw): the time
 *   from the run's creation (the first send) until its last step started.
 *
 * Throughput is steps / (last completion - first ready); ready->started is, per step, the queue
 * time: raw `created_on` -> `started_on`, Meridian `queued_at` (the step became ready, before its
 * job is sent) -> `started_at` (claimed by a worker). Every timestamp is the database's clock.
 * Also on PGlite in-process (one process, 4 workers as 4 fetch loops) unless BENCH_PGLITE=0.
 * Run with `npm run bench:pipelines`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import PgBoss from 'pg-boss';
import { silentLogger } from '../src/core/logger.js';
import { PipelineOrchestrator } from '../src/pipelines/orchestrator.js';
import { createJobQueue } from '../src/stores/queue/index.js';
import type { JobQueue } from '../src/stores/queue/port.js';
import { createStateStore } from '../src/stores/state/index.js';
import { startPostgres, tempStoreDir } from '../test/helpers/servers.js';
import { benchDispatch, benchFanout, DISPATCH_WIDTH, RUN_WIDTH } from './lib/noop-pipelines.js';
import { meridianScenario, type Row, summarize, type Timing } from './lib/pipeline-timings.js';
import { inProcessRows } from './lib/pipelines-inprocess.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const HERE = import.meta.dirname;
const WORKER_CLI = resolve(HERE, '../test/pipelines/fixtures/worker-cli.ts');
const RAW_WORKER = resolve(HERE, 'lib/raw-boss-worker.ts');
const PIPELINES = resolve(HERE, 'lib/noop-pipelines.ts');

function spawnReady(args: string[], env: NodeJS.ProcessEnv, readyText: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let tail = '';
  return new Promise((ready, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail = `${tail}\n${line}`.slice(-2000);
        if (line.includes(readyText)) ready(child);
      });
    }
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:${tail}`)));
  });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null) return done();
          c.once('exit', () => done());
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function waitUntil(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 50));
}

async function rawScenario(boss: PgBoss, url: string, queue: string, steps: number): Promise<Timing> {
  await boss.createQueue(queue);
  for (let i = 0; i < steps; i++) await boss.send(queue, { i }, { retryLimit: 2, expireInSeconds: 3630 });
  const db = boss.getDb();
  await waitUntil(async () => {
    const { rows } = await db.executeSql(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
      [queue],
    );
    return (rows[0] as { n: number }).n >= steps;
  });
  const { rows } = await db.executeSql(
    `SELECT extract(epoch FROM created_on) * 1000 AS ready, extract(epoch FROM started_on) * 1000 AS started,
       extract(epoch FROM completed_on) * 1000 AS finished FROM pgboss.job WHERE name = $1`,
    [queue],
  );
  void url;
  return summarize(rows as { ready: number; started: number; finished: number }[]);
}

async function rawRows(url: string): Promise<Row[]> {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  await boss.start();
  await boss.createQueue('bench.raw');
  await boss.createQueue('bench.raw.dispatch');
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, () => spawnReady([RAW_WORKER, url, 'bench.raw'], {}, 'ready')),
  );
  const main = await rawScenario(boss, url, 'bench.raw', STEPS);
  await stopAll(workers);
  const dispatchWorkers = await Promise.all(
    Array.from({ length: WORKERS }, () => spawnReady([RAW_WORKER, url, 'bench.raw.dispatch'], {}, 'ready')),
  );
  const dispatch = await rawDispatch(boss, DISPATCH_WIDTH);
  await stopAll(dispatchWorkers);
  await boss.stop({ graceful: false, close: true });
  return [
    { store: 'postgres', scenario: `${STEPS} steps`, system: 'raw pg-boss', ...main },
    { store: 'postgres', scenario: `1 x ${DISPATCH_WIDTH} dispatch`, system: 'raw pg-boss', ...dispatch },
  ];
}

/** One batch insert of the jobs: the fastest way pg-boss has to make 1000 jobs ready at once. */
async function rawDispatch(boss: PgBoss, width: number): Promise<Timing> {
  const queue = 'bench.raw.dispatch';
  await boss.insert(Array.from({ length: width }, (_, i) => ({ name: queue, data: { i }, retryLimit: 2 })));
  const db = boss.getDb();
  await waitUntil(async () => {
    const { rows } = await db.executeSql(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
      [queue],
    );
    return (rows[0] as { n: number }).n >= width;
  });
  const { rows } = await db.executeSql(
    `SELECT extract(epoch FROM created_on) * 1000 AS ready, extract(epoch FROM started_on) * 1000 AS started,
       extract(epoch FROM completed_on) * 1000 AS finished FROM pgboss.job WHERE name = $1`,
    [queue],
  );
  return summarize(rows as { ready: number; started: number; finished: number }[]);
}

async function meridianRows(url: string): Promise<Row[]> {
  const dataDir = tempStoreDir('bench-pipelines');
  const ctx = { dataDir, logger: silentLogger };
  const state = await createStateStore(url, ctx);
  const queue: JobQueue = await createJobQueue('state', ctx, state);
  const orchestrator = await PipelineOrchestrator.open({ state, queue, logger: silentLogger });
  orchestrator.register(benchFanout);
  orchestrator.register(benchDispatch);
  await orchestrator.dispatcher.ensureQueue('default');
  const env = {
    MERIDIAN_STATE_STORE: url,
    MERIDIAN_JOB_QUEUE: 'state',
    MERIDIAN_ARTIFACT_STORE: 'file',
    MERIDIAN_DATA_DIR: dataDir,
    MERIDIAN_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  const args = [WORKER_CLI, 'worker', '--queues', 'default', '--concurrency', String(CONCURRENCY)];
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, () =>
      spawnReady([...args, '--pipelines', PIPELINES], env, '"worker ready"'),
    ),
  );
  const main = await meridianScenario(orchestrator, state, 'bench-fanout', Math.ceil(STEPS / RUN_WIDTH));
  const dispatch = await meridianScenario(orchestrator, state, 'bench-dispatch', 1);
  await stopAll(workers);
  await queue.close();
  await state.close();
  rmSync(dataDir, { recursive: true, force: true });
  const runs = Math.ceil(STEPS / RUN_WIDTH);
  return [
    {
      store: 'postgres',
      scenario: `${STEPS} steps`,
      system: `Meridian (${runs} runs x ${RUN_WIDTH})`,
      ...main,
    },
    {
      store: 'postgres',
      scenario: `1 x ${DISPATCH_WIDTH} dispatch`,
      system: 'Meridian (1 run)',
      ...dispatch,
    },
  ];
}

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);

/** The table: every row, and Meridian's throughput as a share of raw pg-boss's in the same scenario. */
export function printTable(rows: Row[]): void {
  const header = [
    'store',
    'scenario',
    'system',
    'steps',
    'steps/s',
    'vs raw',
    'ready->started p50 ms',
    'p99 ms',
    'first ready->last started ms',
    'first ready->last done ms',
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const raw = rows.find(
      (x) => x.store === r.store && x.scenario === r.scenario && x.system === 'raw pg-boss',
    );
    const ratio = raw && raw !== r ? `${f0((100 * r.perSecond) / raw.perSecond)}%` : '';
    const cells = [r.store, r.scenario, r.system, String(r.steps), f0(r.perSecond), ratio];
    cells.push(f1(r.p50), f1(r.p99), f0(r.lastStartedMs), f0(r.lastFinishedMs));
    console.log(`| ${cells.join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  console.log(
    `bench:pipelines: ${STEPS} no-op steps, ${WORKERS} workers x concurrency ${CONCURRENCY}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const server = await startPostgres();
  const rows: Row[] = [];
  try {
    rows.push(...(await rawRows(server.url)));
    rows.push(...(await meridianRows(server.url)));
  } finally {
    await server.stop();
  }
  if (process.env.BENCH_PGLITE !== '0') rows.push(...(await inProcessRows(STEPS, WORKERS, CONCURRENCY)));
  printTable(rows);
  const dispatch = rows.find((r) => r.store === 'postgres' && r.system === 'Meridian (1 run)');
  if (dispatch)
    console.log(`1000-step dispatch (Meridian, PostgreSQL): ${(dispatch.lastStartedMs / 1000).toFixed(2)} s`);
}

await main();
