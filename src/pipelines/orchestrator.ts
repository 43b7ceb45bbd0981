/**
 * The orchestrator: triggers runs under their idempotency key, sends their ready steps to the job
 * queue, and answers runs, steps and logs. Steps run in workers (worker.ts), which complete them and
 * queue their successors; the sweeper (sweeper.ts) recovers steps whose worker died.
 */

import { invalidArgument } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { JobQueue } from '../stores/queue/port.js';
import type { StateStore } from '../stores/state/port.js';
import { Catalog } from './catalog.js';
import { STEP_DEFAULTS } from './describe.js';
import { Dispatcher } from './dispatch.js';
import type { PipelineMetrics } from './metrics.js';
import { PIPELINE_MIGRATIONS } from './migrations.js';
import { resolveParams } from './params.js';
import { runKey } from './run-key.js';
import { readLogs } from './run-log.js';
import { createRun, listRuns, readRun, resumeRun, type StepPlan } from './run-store.js';
import type {
  LogLine,
  Orchestrator,
  Pipeline,
  RunFilter,
  RunView,
  TriggerRequest,
  TriggerResult,
} from './types.js';

export interface OrchestratorDeps {
  state: StateStore;
  queue: JobQueue;
  logger: Logger;
  /** Shared with workers in this process, so both see the same definitions. */
  catalog?: Catalog;
  metrics?: PipelineMetrics;
  now?: () => Date;
}

/** A step's row policies from its definition, defaults applied. */
export function planSteps(pipeline: Pipeline): StepPlan[] {
  return pipeline.order.map((name) => {
    const step = pipeline.step(name);
    return {
      name,
      needs: step.needs ?? [],
      queue: step.queue ?? STEP_DEFAULTS.queue,
      maxAttempts: (step.retries ?? STEP_DEFAULTS.retries) + 1,
      retryDelayMs: step.retryDelayMs ?? STEP_DEFAULTS.retryDelayMs,
      timeoutMs: step.timeoutMs ?? STEP_DEFAULTS.timeoutMs,
    };
  });
}

function checkLogicalDate(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidArgument(
      'logicalDate',
      'must be a valid date',
      'send an ISO 8601 time, e.g. 2026-01-01T00:00:00Z',
    );
  }
  return value;
}

function checkWhole(field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(field, `${String(value)} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

export class PipelineOrchestrator implements Orchestrator {
  readonly catalog: Catalog;
  readonly dispatcher: Dispatcher;
  readonly #deps: OrchestratorDeps;

  constructor(deps: OrchestratorDeps) {
    this.#deps = deps;
    this.catalog = deps.catalog ?? new Catalog();
    this.dispatcher = new Dispatcher(deps.queue, deps.state, deps.logger);
  }

  /** Applies the orchestrator's migrations and answers an orchestrator on the stores. */
  static async open(deps: OrchestratorDeps): Promise<PipelineOrchestrator> {
    await deps.state.migrate(PIPELINE_MIGRATIONS);
    return new PipelineOrchestrator(deps);
  }

  register(pipeline: Pipeline): void {
    this.catalog.register(pipeline);
  }

  pipelines(): readonly Pipeline[] {
    return this.catalog.list();
  }

  async trigger(name: string, request: TriggerRequest = {}): Promise<TriggerResult> {
    const pipeline = this.catalog.get(name);
    const params = resolveParams(pipeline, request.params);
    const logicalDate = checkLogicalDate(request.logicalDate) ?? this.#deps.now?.() ?? new Date();
    const created = await createRun(
      this.#deps.state,
      {
        runId: newId(),
        pipeline: name,
        params,
        logicalDate,
        key: runKey(name, params, logicalDate),
        trigger: request.trigger ?? { kind: 'api' },
        steps: planSteps(pipeline),
      },
      request.force === true,
    );
    const { ready, ...result } = created;
    if (result.created) {
      this.#deps.metrics?.run(name, 'PENDING');
      this.#deps.logger.info(
        { runId: result.runId, pipeline: name, trigger: request.trigger },
        'run created',
      );
    }
    await this.dispatcher.dispatchOrDefer(ready);
    return result;
  }

  run(runId: string): Promise<RunView> {
    return readRun(this.#deps.state, runId);
  }

  async runs(filter: RunFilter = {}): Promise<RunView[]> {
    return listRuns(this.#deps.state, { ...filter, limit: checkWhole('limit', filter.limit, 50, 1, 1000) });
  }

  async resume(runId: string): Promise<RunView> {
    const ready = await resumeRun(this.#deps.state, runId);
    this.#deps.logger.info({ runId, steps: ready.map((s) => s.name) }, 'run resumed');
    await this.dispatcher.dispatchOrDefer(ready);
    return this.run(runId);
  }

  async logs(
    runId: string,
    options: { step?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<LogLine[]> {
    const query = {
      ...(options.step !== undefined ? { step: options.step } : {}),
      afterSeq: checkWhole('afterSeq', options.afterSeq, 0, 0, Number.MAX_SAFE_INTEGER),
      limit: checkWhole('limit', options.limit, 1000, 1, 10_000),
    };
    await readRun(this.#deps.state, runId);
    return readLogs(this.#deps.state, runId, query);
  }
}
