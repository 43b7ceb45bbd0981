/**
 * Sends ready steps to their pg-boss queues. A step's job is a singleton (`runId/step`), so a step
 * sent twice (a completion and a sweeper racing, a crash between commit and send) is queued once;
 * its retry policy and expiry (a backstop behind heartbeats) come from the step's row.
 */
import type { Logger } from '../core/logger.js';
import type { JobQueue, SendOptions } from '../stores/queue/port.js';
import type { StateStore } from '../stores/state/port.js';
import { type ReadyStep, recordJobs, type SentJob } from './step-store.js';

/** What a step's job carries. */
export interface StepJob {
  runId: string;
  pipeline: string;
  step: string;
}

/** pg-boss refuses expirations of 24 h or more. */
const MAX_EXPIRE_SECONDS = 24 * 60 * 60 - 1;
/** Jobs sent at once: enough to hide round trips, few enough to leave the pool to the workers. */
const SEND_PARALLELISM = 4;
/** Beyond the step's own timeout, before pg-boss takes an attempt as lost. */
const EXPIRE_MARGIN_SECONDS = 30;

/** The job queue a step queue maps to. */
export const stepQueue = (queue: string): string => `pipeline.${queue}`;

/** The job options of a step: attempts, backoff from its retry delay, expiry after its timeout. */
export function stepSendOptions(step: ReadyStep): SendOptions {
  return {
    singletonKey: `${step.runId}/${step.name}`,
    retryLimit: step.maxAttempts - 1,
    retryDelaySeconds: Math.ceil(step.retryDelayMs / 1000),
    // pg-boss makes a backoff delay at least 1 s, so a step asking for none gets none.
    retryBackoff: step.retryDelayMs > 0,
    expireInSeconds: Math.min(MAX_EXPIRE_SECONDS, Math.ceil(step.timeoutMs / 1000) + EXPIRE_MARGIN_SECONDS),
  };
}

export class Dispatcher {
  readonly #queue: JobQueue;
  readonly #state: StateStore;
  readonly #logger: Logger;
  readonly #created = new Map<string, Promise<void>>();

  constructor(queue: JobQueue, state: StateStore, logger: Logger) {
    this.#queue = queue;
    this.#state = state;
    this.#logger = logger;
  }

  /** Creates the job queue of a step queue once per process. */
  ensureQueue(queue: string): Promise<void> {
    const name = stepQueue(queue);
    let created = this.#created.get(name);
    if (!created) {
      created = this.#queue.createQueue(name);
      created.catch(() => this.#created.delete(name));
      this.#created.set(name, created);
    }
    return created;
  }

  /**
   * Sends the steps, logging instead of throwing when the queue fails: they are queued in the state
   * store already, so a sweeper sends them once it can.
   */
  async dispatchOrDefer(steps: readonly ReadyStep[]): Promise<void> {
    try {
      await this.dispatch(steps);
    } catch (err) {
      const names = steps.map((s) => `${s.runId}/${s.name}`);
      this.#logger.warn({ err, steps: names }, 'steps not sent to the job queue; the sweeper will send them');
    }
  }

  /**
   * Sends each step's job (a few at a time) and records the ids in one statement; `previous` is
   * the job a re-send replaces.
   */
  async dispatch(steps: readonly ReadyStep[], previous: string | null = null): Promise<void> {
    for (const queue of new Set(steps.map((s) => s.queue))) await this.ensureQueue(queue);
    const sent: SentJob[] = [];
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < steps.length) {
        const step = steps[next++]!;
        const job: StepJob = { runId: step.runId, pipeline: step.pipeline, step: step.name };
        const id = await this.#queue.send(stepQueue(step.queue), job, stepSendOptions(step));
        if (id) sent.push({ step, jobId: id });
        this.#logger.debug(
          { runId: step.runId, step: step.name, job: id },
          id ? 'step queued' : 'step already queued',
        );
      }
    };
    const senders = Array.from({ length: Math.min(SEND_PARALLELISM, steps.length) }, sender);
    const results = await Promise.allSettled(senders);
    // Jobs that were sent are recorded even when another send failed.
    await recordJobs(this.#state, sent, previous);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
