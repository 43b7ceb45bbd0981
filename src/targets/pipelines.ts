/**
 * The `pipelines` target: the orchestrator (runs, steps, dispatch over pg-boss), its catalog (the
 * built-in pipelines plus `pipelines.modules`), its REST and gRPC APIs, the scheduler, the sweeper
 * that notices dead workers, and (unless `pipelines.worker` is off) a worker in this process. The
 * worker and the built-in steps reach the other services through `pipelines.apiUrl`, by default
 * this process's own HTTP server, known once it listens.
 */
import { registerPipelinesGrpc } from '../api/grpc-pipelines.js';
import { registerPipelineRoutes } from '../api/routes/pipelines.js';
import { MeridianError } from '../core/errors.js';
import { builtinPipelines } from '../pipelines/builtin/index.js';
import { loadPipelineModules } from '../pipelines/catalog.js';
import { PipelineMetrics } from '../pipelines/metrics.js';
import { PipelineOrchestrator } from '../pipelines/orchestrator.js';
import { SCHEDULER_MIGRATIONS, Scheduler } from '../pipelines/scheduler.js';
import { createStepExecutor } from '../pipelines/step-executor.js';
import { Sweeper } from '../pipelines/sweeper.js';
import { type PipelineWorker, startPipelineWorker } from '../pipelines/worker.js';
import type { RunningTarget, TargetContext } from './target.js';

export interface PipelinesTarget extends RunningTarget {
  orchestrator: PipelineOrchestrator;
}

/** Starts the orchestrator and registers its APIs; the worker and scheduler start once the server listens. */
export async function startPipelinesTarget(ctx: TargetContext): Promise<PipelinesTarget> {
  const { config, stores, logger, metrics, http, grpc } = ctx;
  const { state, queue, artifact } = stores;
  if (!state || !queue || !artifact) {
    throw new MeridianError(
      'INTERNAL',
      'the orchestrator needs the state store, job queue and artifact store of its target',
    );
  }
  const log = logger.child({ service: 'pipelines' });
  const settings = config.pipelines;
  const pipelineMetrics = new PipelineMetrics(metrics, state);
  const orchestrator = await PipelineOrchestrator.open({
    state,
    queue,
    logger: log,
    metrics: pipelineMetrics,
  });
  await state.migrate(SCHEDULER_MIGRATIONS);
  for (const pipeline of [...builtinPipelines(), ...(await loadPipelineModules(settings.modules))]) {
    orchestrator.register(pipeline);
  }
  registerPipelineRoutes(http, { orchestrator });
  registerPipelinesGrpc(grpc, orchestrator);
  const sweeper = new Sweeper({
    state,
    queue,
    dispatcher: orchestrator.dispatcher,
    logger: log,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    intervalMs: settings.sweepIntervalMs,
    metrics: pipelineMetrics,
  });
  const scheduler = new Scheduler({ state, orchestrator, logger: log });
  let worker: PipelineWorker | undefined;
  return {
    orchestrator,
    async onListening(httpUrl: string) {
      sweeper.start();
      if (settings.schedules) scheduler.start(settings.sweepIntervalMs);
      if (!settings.worker) return;
      worker = await startPipelineWorker({
        queue,
        state,
        artifact,
        catalog: orchestrator.catalog,
        queues: settings.queues,
        concurrency: settings.concurrency,
        // The worker writes heartbeats itself while an attempt runs.
        executor: createStepExecutor({ heartbeatMs: 0 }),
        heartbeatMs: settings.heartbeatMs,
        logger: log,
        metrics: pipelineMetrics,
        apiUrl: settings.apiUrl ?? httpUrl,
        memoryCeiling: config.resources.memoryCeiling,
      });
    },
    async close() {
      await scheduler.close();
      await worker?.stop(config.shutdownTimeoutMs);
      await sweeper.stop();
    },
  };
}
