/**
 * The PGlite half of bench/pipelines.ts: PGlite serves one process, so the raw pg-boss loops and
 * Meridian's workers (as many as the PostgreSQL half has processes, one step at a time each) run
 * in the bench process on one on-disk PGlite, each system in a fresh one.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import PgBoss from 'pg-boss';
import { silentLogger } from '../../src/core/logger.js';
import { PipelineOrchestrator } from '../../src/pipelines/orchestrator.js';
import { createStepExecutor } from '../../src/pipelines/step-executor.js';
import { startPipelineWorker } from '../../src/pipelines/worker.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import { createJobQueue } from '../../src/stores/queue/index.js';
import { createStateStore, isSqlSource } from '../../src/stores/state/index.js';
import { tempStoreDir } from '../../test/helpers/servers.js';
import { benchDispatch, benchFanout, DISPATCH_WIDTH, RUN_WIDTH } from './noop-pipelines.js';
import { meridianScenario, type Row, summarize, type Timing } from './pipeline-timings.js';

async function rawOnPglite(steps: number, workers: number): Promise<Timing> {
  const dir = tempStoreDir('bench-raw-pglite');
  const state = await createStateStore(`pglite:${join(dir, 'state')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
  if (!isSqlSource(state)) throw new Error('PGlite store has no executeSql');
  const boss = new PgBoss({
    db: { executeSql: (t, v) => state.executeSql(t, v) },
    supervise: false,
    schedule: false,
  });
  await boss.start();
  const queue = 'bench.raw';
  await boss.createQueue(queue);
  let stopping = false;
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const [job] = await boss.fetch(queue, { batchSize: 1 });
      if (job) await boss.complete(queue, job.id, { result: { completed: true } });
      else await new Promise((r) => setTimeout(r, 500));
    }
  };
  const loops = Array.from({ length: workers }, loop);
  for (let i = 0; i < steps; i++) await boss.send(queue, { i }, { retryLimit: 2, expireInSeconds: 3630 });
  const count = async () =>
    (
      await state.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
        [queue],
      )
    ).rows[0]!.n;
  while ((await count()) < steps) await new Promise((r) => setTimeout(r, 50));
  stopping = true;
  await Promise.all(loops);
  const { rows } = await state.query<{ ready: number; started: number; finished: number }>(
    `SELECT extract(epoch FROM created_on) * 1000 AS ready, extract(epoch FROM started_on) * 1000 AS started,
       extract(epoch FROM completed_on) * 1000 AS finished FROM pgboss.job WHERE name = $1`,
    [queue],
  );
  await boss.stop({ graceful: false, close: false });
  await state.close();
  rmSync(dir, { recursive: true, force: true });
  return summarize(rows);
}

async function meridianOnPglite(steps: number, workers: number, concurrency: number): Promise<Timing[]> {
  const dir = tempStoreDir('bench-meridian-pglite');
  const ctx = { dataDir: dir, logger: silentLogger };
  const state = await createStateStore(`pglite:${join(dir, 'state')}`, ctx);
  const queue = await createJobQueue('state', ctx, state);
  const artifact = await createArtifactStore(`file:${join(dir, 'artifacts')}`, ctx);
  const orchestrator = await PipelineOrchestrator.open({ state, queue, logger: silentLogger });
  orchestrator.register(benchFanout);
  orchestrator.register(benchDispatch);
  const started = await Promise.all(
    Array.from({ length: workers }, () =>
      startPipelineWorker({
        queue,
        state,
        artifact,
        catalog: orchestrator.catalog,
        queues: ['default'],
        concurrency,
        executor: createStepExecutor({ heartbeatMs: 0 }),
        heartbeatMs: 5_000,
        logger: silentLogger,
        apiUrl: 'http://127.0.0.1:1',
      }),
    ),
  );
  const main = await meridianScenario(orchestrator, state, 'bench-fanout', Math.ceil(steps / RUN_WIDTH));
  const dispatch = await meridianScenario(orchestrator, state, 'bench-dispatch', 1);
  await Promise.all(started.map((w) => w.stop()));
  await queue.close();
  await artifact.close();
  await state.close();
  rmSync(dir, { recursive: true, force: true });
  return [main, dispatch];
}

/** Raw pg-boss and Meridian on PGlite, in this process. */
export async function inProcessRows(steps: number, workers: number, concurrency: number): Promise<Row[]> {
  const raw = await rawOnPglite(steps, workers * concurrency);
  const [main, dispatch] = await meridianOnPglite(steps, workers, concurrency);
  const runs = Math.ceil(steps / RUN_WIDTH);
  return [
    { store: 'pglite', scenario: `${steps} steps`, system: 'raw pg-boss', ...raw },
    {
      store: 'pglite',
      scenario: `${steps} steps`,
      system: `Meridian (${runs} runs x ${RUN_WIDTH})`,
      ...main!,
    },
    { store: 'pglite', scenario: `1 x ${DISPATCH_WIDTH} dispatch`, system: 'Meridian (1 run)', ...dispatch! },
  ];
}
