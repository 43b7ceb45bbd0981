/**
 * `meridian worker --queues a,b --concurrency N --pipelines ./module.js`: a process that runs
 * pipeline steps from the job queue, and nothing else. It opens only the state store, the job queue
 * and the artifact store, loads the pipeline modules, sweeps for steps whose worker died, and on
 * SIGTERM/SIGINT stops taking steps and lets the running ones finish.
 */
import { mkdirSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createMetricsRegistry } from '../core/metrics.js';
import { builtinPipelines } from '../pipelines/builtin/index.js';
import { Catalog, loadPipelineModules } from '../pipelines/catalog.js';
import { Dispatcher } from '../pipelines/dispatch.js';
import { PipelineMetrics } from '../pipelines/metrics.js';
import { PIPELINE_MIGRATIONS } from '../pipelines/migrations.js';
import { createStepExecutor } from '../pipelines/step-executor.js';
import { Sweeper } from '../pipelines/sweeper.js';
import { startPipelineWorker } from '../pipelines/worker.js';
import { createArtifactStore } from '../stores/artifact/index.js';
import type { Stores } from '../stores/index.js';
import { createJobQueue } from '../stores/queue/index.js';
import { createStateStore } from '../stores/state/index.js';
import type { StoreContext } from '../stores/store.js';

interface WorkerFlags {
  queues?: string[];
  concurrency?: number;
  pipelines?: string[];
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('expected a whole number 1-256');
  return n;
}

/** A running worker process's parts; stop() finishes running steps and closes the stores. */
export interface WorkerProcess {
  stop(): Promise<void>;
}

/**
 * The state store, job queue and artifact store from config, opened through their factories only:
 * a worker never loads the other stores' drivers (DuckDB, LMDB, NATS).
 */
async function openWorkerStores(config: Config, logger: Logger, stores: Stores): Promise<void> {
  mkdirSync(config.dataDir, { recursive: true });
  const ctx: StoreContext = {
    dataDir: config.dataDir,
    logger,
    ...(config.azure.connectionString ? { azureConnectionString: config.azure.connectionString } : {}),
  };
  stores.state = await createStateStore(config.stateStore, ctx);
  stores.queue = await createJobQueue(config.jobQueue, ctx, stores.state);
  stores.artifact = await createArtifactStore(config.artifactStore, ctx);
}

async function closeWorkerStores(stores: Stores, logger: Logger): Promise<void> {
  for (const store of [stores.queue, stores.artifact, stores.state]) {
    await store?.close().catch((err: unknown) => logger.warn({ err }, 'store did not close cleanly'));
  }
}

/** Opens the worker's stores, loads its pipelines, and starts pulling steps and sweeping. */
export async function startWorkerProcess(config: Config, logger: Logger): Promise<WorkerProcess> {
  const p = config.pipelines;
  const stores: Stores = {};
  try {
    await openWorkerStores(config, logger, stores);
    const state = stores.state!;
    const queue = stores.queue!;
    await state.migrate(PIPELINE_MIGRATIONS);
    const catalog = new Catalog();
    for (const pipeline of [...builtinPipelines(), ...(await loadPipelineModules(p.modules))]) {
      catalog.register(pipeline);
    }
    if (p.modules.length === 0)
      logger.warn('no pipeline modules given (--pipelines): only the built-in pipelines can run here');
    const metrics = new PipelineMetrics(createMetricsRegistry(false), state);
    const worker = await startPipelineWorker({
      queue,
      state,
      artifact: stores.artifact!,
      catalog,
      queues: p.queues,
      concurrency: p.concurrency,
      // The worker heartbeats for every step itself, whatever the executor does.
      executor: createStepExecutor({ heartbeatMs: 0 }),
      heartbeatMs: p.heartbeatMs,
      logger,
      metrics,
      apiUrl: p.apiUrl ?? `http://127.0.0.1:${config.http.port}`,
      memoryCeiling: config.resources.memoryCeiling,
    });
    const sweeper = new Sweeper({
      state,
      queue,
      dispatcher: new Dispatcher(queue, state, logger),
      logger,
      heartbeatTimeoutMs: p.heartbeatTimeoutMs,
      intervalMs: p.sweepIntervalMs,
      metrics,
    });
    sweeper.start();
    logger.info({ pipelines: catalog.list().map((x) => x.name), pid: process.pid }, 'worker ready');
    return {
      async stop() {
        await sweeper.stop();
        await worker.stop(config.shutdownTimeoutMs);
        await closeWorkerStores(stores, logger);
      },
    };
  } catch (err) {
    await closeWorkerStores(stores, logger);
    throw err;
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** Registers `meridian worker`. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run pipeline steps from the job queue until SIGTERM/SIGINT (running steps finish first)')
    .option('--queues <list>', 'comma-separated step queues to pull (default: pipelines.queues)', list)
    .option(
      '--concurrency <n>',
      'steps run at the same time, per queue (default: pipelines.concurrency)',
      positive,
    )
    .option(
      '--pipelines <modules>',
      'comma-separated modules exporting pipelines (default: pipelines.modules)',
      list,
    )
    .action(async (flags: WorkerFlags) => {
      const file = program.opts<{ config?: string }>().config;
      const pipelines: Record<string, unknown> = {};
      if (flags.queues) pipelines.queues = flags.queues;
      if (flags.concurrency) pipelines.concurrency = flags.concurrency;
      if (flags.pipelines) pipelines.modules = flags.pipelines;
      const config = loadConfig({ ...(file ? { file } : {}), overrides: { pipelines } });
      const logger = createLogger(config.logLevel);
      const running = await startWorkerProcess(config, logger);
      const signal = await untilSignal();
      logger.info({ signal }, 'worker stopping: letting running steps finish');
      await running.stop();
    });
}
