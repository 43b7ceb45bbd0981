/**
 * A pipeline worker: pulls step jobs from its queues, claims the step for the job's attempt
 * (attempt = retryCount + 1), runs it with its inputs through the executor while heartbeating, and
 * then completes it (queueing its successors) or fails it (pg-boss retries it, or on the last
 * attempt the run fails). Any number of workers in any number of processes share the queues.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ArtifactStore } from '../stores/artifact/port.js';
import type { Job, JobQueue } from '../stores/queue/port.js';
import type { StateStore } from '../stores/state/port.js';
import type { Catalog } from './catalog.js';
import { Dispatcher, type StepJob, stepQueue } from './dispatch.js';
import { MemoryGate } from './memory-gate.js';
import type { PipelineMetrics } from './metrics.js';
import { RunLogWriter } from './run-log.js';
import {
  type ClaimedStep,
  claimStep,
  completeStep,
  failStep,
  heartbeatStep,
  retryStep,
  type StepAttempt,
} from './step-store.js';
import type { LogSink, StepContext, StepExecutor, StepOutput } from './types.js';

export interface PipelineWorkerOptions {
  queue: JobQueue;
  state: StateStore;
  artifact: ArtifactStore;
  catalog: Catalog;
  /** Step queues to pull (`default`, `gpu`, ...). */
  queues: readonly string[];
  /** Steps run at the same time, per queue. */
  concurrency: number;
  executor: StepExecutor;
  /** How often a running step's heartbeat is written. */
  heartbeatMs: number;
  logger: Logger;
  metrics?: PipelineMetrics;
  apiUrl: string;
  /** How often an idle worker polls; default 0.5 s. */
  pollingIntervalSeconds?: number;
  /** No new step starts while more than this share of memory is in use (`resources.memoryCeiling`); default 0.9. */
  memoryCeiling?: number;
  /** The share of memory in use; default memoryInUse (tests inject their own). */
  memoryInUse?: () => number;
  /** How often memory is read; default 1 s. */
  memoryCheckMs?: number;
}

export interface PipelineWorker {
  /**
   * Stops pulling and waits for the running steps to finish; after `graceMs` (default: no limit)
   * their signals abort, so they fail and are retried elsewhere.
   */
  stop(graceMs?: number): Promise<void>;
}

/** What the attempts of one worker share. */
interface Shared {
  dispatcher: Dispatcher;
  /** The running attempts' signals. */
  running: Set<AbortController>;
}

/** Pulls the step queues, or not: work() per queue while on, stopWork() (running steps finish) when off. */
class Puller {
  readonly #o: PipelineWorkerOptions;
  readonly #shared: Shared;
  #ids: string[] = [];

  constructor(options: PipelineWorkerOptions, shared: Shared) {
    this.#o = options;
    this.#shared = shared;
  }

  async pull(): Promise<void> {
    if (this.#ids.length > 0) return;
    for (const queue of this.#o.queues) {
      const handler = (job: Job<StepJob>) => runAttempt(this.#o, this.#shared, job);
      this.#ids.push(
        await this.#o.queue.work(stepQueue(queue), handler, {
          concurrency: this.#o.concurrency,
          pollingIntervalSeconds: this.#o.pollingIntervalSeconds ?? 0.5,
        }),
      );
    }
  }

  /** Stops pulling; resolves once the running steps ended. */
  async release(): Promise<void> {
    const ids = this.#ids;
    this.#ids = [];
    await Promise.all(ids.map((id) => this.#o.queue.stopWork(id)));
  }
}

/** Starts pulling the queues' step jobs, unless memory is above the ceiling (then once it falls). */
export async function startPipelineWorker(options: PipelineWorkerOptions): Promise<PipelineWorker> {
  const shared: Shared = {
    dispatcher: new Dispatcher(options.queue, options.state, options.logger),
    running: new Set(),
  };
  for (const queue of options.queues) await shared.dispatcher.ensureQueue(queue);
  const puller = new Puller(options, shared);
  let stopping = false;
  const gate = new MemoryGate({
    ceiling: options.memoryCeiling ?? 0.9,
    ...(options.memoryInUse ? { read: options.memoryInUse } : {}),
    checkMs: options.memoryCheckMs ?? 1000,
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    onChange: async (paused) => {
      if (paused) await puller.release();
      else if (!stopping) await puller.pull();
    },
  });
  if (!gate.start()) await puller.pull();
  options.logger.info(
    { queues: options.queues, concurrency: options.concurrency, memoryCeiling: options.memoryCeiling ?? 0.9 },
    'pipeline worker started',
  );
  return {
    stop: async (graceMs = Number.POSITIVE_INFINITY) => {
      stopping = true;
      const abort = (): void => {
        for (const attempt of shared.running) {
          attempt.abort(new MeridianError('UNAVAILABLE', 'the worker shut down while the step ran'));
        }
      };
      const timer = Number.isFinite(graceMs) ? setTimeout(abort, graceMs) : undefined;
      await gate.stop();
      await puller.release();
      clearTimeout(timer);
    },
  };
}

async function runAttempt(o: PipelineWorkerOptions, shared: Shared, job: Job<StepJob>): Promise<unknown> {
  const { runId, step } = job.data;
  const a: StepAttempt = { runId, step, jobId: job.id, attempt: job.retryCount + 1 };
  const log = o.logger.child({ runId, step, attempt: a.attempt, job: job.id });
  const claimed = await claimStep(o.state, a);
  if (!claimed) {
    log.info('attempt not run: its step finished or belongs to another attempt');
    return { skipped: true };
  }
  // Debug: the completion line (info) carries the same ids and the duration; one line per step is enough.
  log.debug('step started');
  const started = performance.now();
  const sink = new RunLogWriter(o.state, runId, step, a.attempt, log);
  const alive = new AbortController();
  shared.running.add(alive);
  const heartbeat = async (): Promise<void> => {
    if (alive.signal.aborted || (await heartbeatStep(o.state, a))) return;
    alive.abort(
      new MeridianError('UNAVAILABLE', `attempt ${a.attempt} of step ${step} was taken as lost and given up`),
    );
  };
  const timer = setInterval(
    () => void heartbeat().catch((err: unknown) => log.warn({ err }, 'heartbeat not written')),
    o.heartbeatMs,
  );
  let output: StepOutput;
  try {
    const definition = o.catalog.get(claimed.pipeline).step(step);
    output = await o.executor(definition, context(o, a, claimed, sink, heartbeat, alive.signal), sink);
  } catch (err) {
    await endAttempt(shared, alive, timer, sink);
    await failed(o, a, claimed, err, (performance.now() - started) / 1000);
    throw err;
  }
  await endAttempt(shared, alive, timer, sink);
  await completed(o, shared.dispatcher, a, claimed, output, (performance.now() - started) / 1000);
  return { completed: true };
}

async function endAttempt(
  shared: Shared,
  alive: AbortController,
  timer: NodeJS.Timeout,
  sink: RunLogWriter,
): Promise<void> {
  clearInterval(timer);
  shared.running.delete(alive);
  await sink.close();
}

function context(
  o: PipelineWorkerOptions,
  a: StepAttempt,
  claimed: ClaimedStep,
  sink: LogSink,
  heartbeat: () => Promise<void>,
  signal: AbortSignal,
): StepContext {
  return {
    runId: a.runId,
    pipeline: claimed.pipeline,
    step: a.step,
    attempt: a.attempt,
    params: claimed.params,
    logicalDate: claimed.logicalDate,
    inputs: claimed.inputs,
    idempotencyKey: `${a.runId}/${a.step}`,
    logger: stepLogger(sink),
    heartbeat,
    signal,
    services: { state: o.state, artifact: o.artifact, apiUrl: o.apiUrl },
  };
}

/** A logger whose lines go into the run log: `level message {fields}`. */
function stepLogger(sink: LogSink): Logger {
  return pino(
    { level: 'info', base: undefined, timestamp: false },
    {
      write(text: string) {
        const { level, msg, ...fields } = JSON.parse(text) as { level: number; msg?: string };
        const label = pino.levels.labels[level] ?? String(level);
        const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
        sink.write('log', `${label} ${msg ?? ''}${extra}`);
      },
    },
  );
}

async function completed(
  o: PipelineWorkerOptions,
  dispatcher: Dispatcher,
  a: StepAttempt,
  claimed: ClaimedStep,
  output: StepOutput,
  seconds: number,
): Promise<void> {
  const log = o.logger.child({ runId: a.runId, step: a.step, attempt: a.attempt });
  const done = await completeStep(o.state, a, output);
  if (!done) {
    log.warn('completion ignored: the attempt had been given up on');
    return;
  }
  o.metrics?.step(claimed.pipeline, a.step, 'COMPLETED', seconds);
  log.info({ seconds, next: done.ready.map((s) => s.name) }, 'step completed');
  if (done.runCompleted) {
    o.metrics?.run(claimed.pipeline, 'COMPLETED');
    log.info('run completed');
  }
  await dispatcher.dispatchOrDefer(done.ready);
}

async function failed(
  o: PipelineWorkerOptions,
  a: StepAttempt,
  claimed: ClaimedStep,
  err: unknown,
  seconds: number,
): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  const error = `attempt ${a.attempt} of ${claimed.maxAttempts}: ${message}`;
  const log = o.logger.child({ runId: a.runId, step: a.step, attempt: a.attempt });
  if (a.attempt < claimed.maxAttempts) {
    if (await retryStep(o.state, a, error)) o.metrics?.step(claimed.pipeline, a.step, 'RETRY', seconds);
    log.warn({ err }, 'step attempt failed; it will be retried');
    return;
  }
  const runError = `step ${a.step} failed on ${error}`;
  if (await failStep(o.state, a, error, runError)) {
    o.metrics?.step(claimed.pipeline, a.step, 'FAILED', seconds);
    o.metrics?.run(claimed.pipeline, 'FAILED');
    log.error({ err }, 'step failed on its last attempt; run failed');
  }
}
