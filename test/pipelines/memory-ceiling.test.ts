/**
 * The memory ceiling of a pipeline worker, with the memory reading injected: above the ceiling a
 * worker takes no new step (it stays queued in pg-boss, for other workers), says so in its log and
 * its gauge, and takes steps again once memory falls. Real PGlite and pg-boss underneath.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, type Registry } from '../../src/core/metrics.js';
import { definePipeline } from '../../src/pipelines/define.js';
import { stepQueue } from '../../src/pipelines/dispatch.js';
import { PIPELINE_WORKER_MEMORY_PAUSED, PipelineMetrics } from '../../src/pipelines/metrics.js';
import { PipelineOrchestrator } from '../../src/pipelines/orchestrator.js';
import { createStepExecutor } from '../../src/pipelines/step-executor.js';
import { type PipelineWorker, startPipelineWorker } from '../../src/pipelines/worker.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createJobQueue } from '../../src/stores/queue/index.js';
import type { JobQueue } from '../../src/stores/queue/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { tempStoreDir } from '../helpers/servers.js';
import { finished } from './engine-harness.js';

const CEILING = 0.9;
const oneStep = definePipeline({
  name: 'one-step',
  params: { n: { type: 'integer' } },
  steps: [{ name: 'work', run: async (ctx) => ({ pid: process.pid, n: ctx.params.n }) }],
});

describe('the memory ceiling of a pipeline worker', () => {
  let dir: string;
  let state: StateStore;
  let queue: JobQueue;
  let artifact: ArtifactStore;
  let orchestrator: PipelineOrchestrator;
  let registry: Registry;
  const workers: PipelineWorker[] = [];
  const lines: Record<string, unknown>[] = [];
  let inUse = 0.95;

  const startWorker = (read: () => number, metrics?: PipelineMetrics) =>
    startPipelineWorker({
      queue,
      state,
      artifact,
      catalog: orchestrator.catalog,
      queues: ['default'],
      concurrency: 1,
      executor: createStepExecutor({ heartbeatMs: 0 }),
      heartbeatMs: 200,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      ...(metrics ? { metrics } : {}),
      apiUrl: 'http://127.0.0.1:1',
      pollingIntervalSeconds: 0.1,
      memoryCeiling: CEILING,
      memoryInUse: read,
      memoryCheckMs: 50,
    });
  const paused = async () =>
    (await registry.getSingleMetric(PIPELINE_WORKER_MEMORY_PAUSED)!.get()).values[0]?.value;
  const stepRow = async (runId: string) =>
    (
      await state.query<{ status: string; job_id: string | null; queued_at: Date | null }>(
        'SELECT status, job_id, queued_at FROM pipeline_steps WHERE run_id = $1',
        [runId],
      )
    ).rows[0]!;

  beforeAll(async () => {
    dir = tempStoreDir('memory-ceiling');
    const ctx = { dataDir: dir, logger: silentLogger };
    state = await createStateStore(`pglite:${join(dir, 'state')}`, ctx);
    queue = await createJobQueue('state', ctx, state, {
      maintenanceIntervalSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    artifact = await createArtifactStore(`file:${join(dir, 'artifacts')}`, ctx);
    orchestrator = await PipelineOrchestrator.open({ state, queue, logger: silentLogger });
    orchestrator.register(oneStep);
    registry = createMetricsRegistry(false);
    workers.push(await startWorker(() => inUse, new PipelineMetrics(registry, state)));
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop(1000);
    await queue?.close();
    await artifact?.close();
    await state?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a step queued while memory is above the ceiling, logging and gauging why', async () => {
    const { runId } = await orchestrator.trigger('one-step', { params: { n: 1 } });
    await new Promise((r) => setTimeout(r, 1000));
    const step = await stepRow(runId);
    expect(step).toMatchObject({ status: 'PENDING', job_id: expect.any(String) });
    expect((await queue.getJob(stepQueue('default'), step.job_id!))?.state).toBe('created');
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'memory above the ceiling: taking no new steps until it falls',
        memoryInUse: 0.95,
        ceiling: CEILING,
      }),
    );
    expect(await paused()).toBe(1);
  });

  it('runs the queued step once memory falls below the ceiling', async () => {
    const runId = (await orchestrator.runs({ pipeline: 'one-step' }))[0]!.runId;
    inUse = 0.5;
    const run = await finished({ orchestrator }, runId);
    expect(run.status).toBe('COMPLETED');
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'memory below the ceiling again: taking steps' }),
    );
    expect(await paused()).toBe(0);
  });

  it('leaves new steps to a worker with room when its own memory rises again', async () => {
    inUse = 0.97;
    await new Promise((r) => setTimeout(r, 300));
    const { runId } = await orchestrator.trigger('one-step', { params: { n: 2 } });
    await new Promise((r) => setTimeout(r, 600));
    expect((await stepRow(runId)).status).toBe('PENDING');
    workers.push(await startWorker(() => 0.2));
    const run = await finished({ orchestrator }, runId);
    expect(run.status).toBe('COMPLETED');
    expect(await paused()).toBe(1);
  });
});
