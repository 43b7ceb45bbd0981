import type { Store } from '../store.js';

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

export interface SendOptions {
  /** While a job with this key is queued or active, sending another with the same key is a no-op. */
  singletonKey?: string;
  /** Attempts after the first one; default 2. */
  retryLimit?: number;
  /** Seconds before the first retry; default 1. */
  retryDelaySeconds?: number;
  /** Exponential backoff (delay x 2^attempt, with jitter); default true. */
  retryBackoff?: boolean;
  /** A job active longer than this is treated as lost (worker died) and retried; default 900. */
  expireInSeconds?: number;
  /** Higher runs first. */
  priority?: number;
  /** Do not start before this time. */
  startAfter?: Date;
}

export interface Job<T = unknown> {
  id: string;
  queue: string;
  data: T;
  /** 0 on the first attempt. */
  retryCount: number;
}

export interface JobInfo<T = unknown> extends Job<T> {
  state: JobState;
  retryLimit: number;
  /** The handler's return value when completed; `{ message, stack }` of the last error when failed. */
  output: unknown;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
}

export interface WorkOptions {
  /** Jobs this worker runs at the same time; default 1. */
  concurrency?: number;
  /** How often an idle worker looks for work; default 0.5 s. */
  pollingIntervalSeconds?: number;
}

export type JobHandler<T = unknown> = (job: Job<T>) => Promise<unknown>;

/** Durable work queues: each job goes to one worker at a time, failures are retried, then dead. */
export interface JobQueue extends Store {
  /** Creates the queue if it does not exist (idempotent). */
  createQueue(queue: string): Promise<void>;
  /** Enqueues a job; resolves to its id, or null when a singleton with the same key already exists. */
  send<T>(queue: string, data: T, options?: SendOptions): Promise<string | null>;
  /** Starts pulling jobs of a queue into handler until stop; resolves to a worker id. */
  work<T>(queue: string, handler: JobHandler<T>, options?: WorkOptions): Promise<string>;
  /** Stops one worker (or all when no id), letting running jobs finish. */
  stopWork(workerId?: string): Promise<void>;
  getJob<T>(queue: string, id: string): Promise<JobInfo<T> | null>;
  /**
   * Fails a job that is still active on attempt `retryCount`, as if its handler had thrown (its worker
   * died): it is retried while attempts remain, else failed. Resolves to its new state, or null when
   * the job was not active on that attempt (finished, already failed or retried): safe to race.
   */
  fail(
    queue: string,
    id: string,
    error: { message: string },
    retryCount: number,
  ): Promise<FailedState | null>;
}

/** Where fail() leaves a job. */
export type FailedState = Extract<JobState, 'retry' | 'failed'>;
