/**
 * What the orchestrator suites share: an orchestrator, a pipeline worker and a sweeper in this
 * process over real stores (a state store with pg-boss on it, file artifacts), with short
 * heartbeats and polling so runs finish in well under a second per step.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, type Registry } from '../../src/core/metrics.js';
import { PipelineMetrics } from '../../src/pipelines/metrics.js';
import { PipelineOrchestrator } from '../../src/pipelines/orchestrator.js';
import { createStepExecutor } from '../../src/pipelines/step-executor.js';
import { Sweeper } from '../../src/pipelines/sweeper.js';
import type { RunStatus, RunView } from '../../src/pipelines/types.js';
import { type PipelineWorker, startPipelineWorker } from '../../src/pipelines/worker.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createJobQueue } from '../../src/stores/queue/index.js';
import type { JobQueue } from '../../src/stores/queue/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { tempStoreDir } from '../helpers/servers.js';

export const HEARTBEAT_MS = 200;
export const HEARTBEAT_TIMEOUT_MS = 1_500;

export interface Engine {
  state: StateStore;
  queue: JobQueue;
  artifact: ArtifactStore;
  orchestrator: PipelineOrchestrator;
  worker: PipelineWorker;
  sweeper: Sweeper;
  registry: Registry;
  close(): Promise<void>;
}

/** Opens the stores at stateUrl, applies the migrations, and starts a worker (queue `default`) and a sweeper. */
export async function openEngine(stateUrl: string): Promise<Engine> {
  const dir = tempStoreDir('engine');
  const ctx = { dataDir: dir, logger: silentLogger };
  const state = await createStateStore(stateUrl, ctx);
  const queue = await createJobQueue('state', ctx, state, {
    maintenanceIntervalSeconds: 1,
    shutdownGraceSeconds: 1,
  });
  const artifact = await createArtifactStore(`file:${join(dir, 'artifacts')}`, ctx);
  const registry = createMetricsRegistry(false);
  const metrics = new PipelineMetrics(registry, state);
  const orchestrator = await PipelineOrchestrator.open({ state, queue, logger: silentLogger, metrics });
  const worker = await startPipelineWorker({
    queue,
    state,
    artifact,
    catalog: orchestrator.catalog,
    queues: ['default'],
    concurrency: 2,
    executor: createStepExecutor({ heartbeatMs: 0 }),
    heartbeatMs: HEARTBEAT_MS,
    logger: silentLogger,
    metrics,
    apiUrl: 'http://127.0.0.1:1',
    pollingIntervalSeconds: 0.2,
  });
  const sweeper = new Sweeper({
    state,
    queue,
    dispatcher: orchestrator.dispatcher,
    logger: silentLogger,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    intervalMs: 300,
    metrics,
  });
  sweeper.start();
  return {
    state,
    queue,
    artifact,
    orchestrator,
    worker,
    sweeper,
    registry,
    async close() {
      await sweeper.stop();
      await worker.stop();
      await queue.close();
      await artifact.close();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const FINAL: readonly RunStatus[] = ['COMPLETED', 'FAILED'];

/** Polls the run until it is COMPLETED or FAILED; throws with its last view after timeoutMs. */
export async function finished(
  engine: Pick<Engine, 'orchestrator'>,
  runId: string,
  timeoutMs = 15_000,
): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await engine.orchestrator.run(runId);
    if (FINAL.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The steps of a run by name: `{ name: [status, attempts, error] }`. */
export function stepStates(run: RunView): Record<string, [string, number, string | null]> {
  return Object.fromEntries(run.steps.map((s) => [s.name, [s.status, s.attempts, s.error]]));
}
