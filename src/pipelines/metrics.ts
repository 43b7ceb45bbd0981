/**
 * The orchestrator's Prometheus series: runs and steps by the status they reached, step durations,
 * and the steps waiting in each queue (read from the state store when scraped, so every process
 * reports the shared depth).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StateStore } from '../stores/state/port.js';
import type { RunStatus, StepStatus } from './types.js';

export const PIPELINE_RUNS_TOTAL = 'meridian_pipeline_runs_total';
export const PIPELINE_STEPS_TOTAL = 'meridian_pipeline_steps_total';
export const PIPELINE_STEP_DURATION_SECONDS = 'meridian_pipeline_step_duration_seconds';
export const PIPELINE_QUEUE_DEPTH = 'meridian_pipeline_queue_depth';
export const PIPELINE_WORKER_MEMORY_PAUSED = 'meridian_pipeline_worker_memory_paused';
export const PIPELINE_WORKER_MEMORY_IN_USE = 'meridian_pipeline_worker_memory_in_use_ratio';

export class PipelineMetrics {
  readonly #runs: Counter<'pipeline' | 'status'>;
  readonly #steps: Counter<'pipeline' | 'step' | 'status'>;
  readonly #durations: Histogram<'pipeline' | 'step' | 'status'>;
  readonly #memoryPaused: Gauge;
  readonly #memoryInUse: Gauge;

  /** Registers the series on registry; `state` feeds the queue depth gauge. */
  constructor(registry: Registry, state?: StateStore) {
    this.#runs = new Counter({
      name: PIPELINE_RUNS_TOTAL,
      help: 'Runs that reached a status (PENDING when created), by pipeline',
      labelNames: ['pipeline', 'status'],
      registers: [registry],
    });
    this.#steps = new Counter({
      name: PIPELINE_STEPS_TOTAL,
      help: 'Step attempts that ended (COMPLETED, FAILED for good, RETRY when retried), by pipeline and step',
      labelNames: ['pipeline', 'step', 'status'],
      registers: [registry],
    });
    this.#durations = new Histogram({
      name: PIPELINE_STEP_DURATION_SECONDS,
      help: 'Duration of step attempts in seconds',
      labelNames: ['pipeline', 'step', 'status'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    });
    this.#memoryPaused = new Gauge({
      name: PIPELINE_WORKER_MEMORY_PAUSED,
      help: "1 while this process's worker takes no new step because memory is above resources.memoryCeiling",
      registers: [registry],
    });
    this.#memoryInUse = new Gauge({
      name: PIPELINE_WORKER_MEMORY_IN_USE,
      help: "Share of memory in use at the worker's last reading (compared with resources.memoryCeiling)",
      registers: [registry],
    });
    new Gauge({
      name: PIPELINE_QUEUE_DEPTH,
      help: 'Steps queued and not yet running, by queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        if (!state) return;
        this.reset();
        const { rows } = await state.query<{ queue: string; depth: unknown }>(
          `SELECT queue, count(*) AS depth FROM pipeline_steps
           WHERE status = 'PENDING' AND queued_at IS NOT NULL GROUP BY queue`,
        );
        for (const row of rows) this.set({ queue: row.queue }, Number(row.depth));
      },
    });
  }

  run(pipeline: string, status: RunStatus): void {
    this.#runs.inc({ pipeline, status });
  }

  /** An attempt ended: COMPLETED, FAILED (for good) or RETRY. */
  step(pipeline: string, step: string, status: StepStatus | 'RETRY', seconds?: number): void {
    this.#steps.inc({ pipeline, step, status });
    if (seconds !== undefined) this.#durations.observe({ pipeline, step, status }, seconds);
  }

  /** The worker's last memory reading and whether it holds back new steps. */
  memory(inUse: number, paused: boolean): void {
    this.#memoryInUse.set(inUse);
    this.#memoryPaused.set(paused ? 1 : 0);
  }
}
