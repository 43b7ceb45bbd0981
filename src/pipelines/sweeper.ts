/**
 * Finds steps whose worker died. A RUNNING step silent for heartbeatTimeoutMs is taken from its
 * attempt (one sweeper wins that compare-and-set) and its job is failed on that attempt, so pg-boss
 * retries it on another worker, or, on the last attempt, the step and run fail. A queued step whose
 * job ended failed without a handler (its expiry hit) fails; one whose job vanished is sent again.
 * Every worker and the scheduler sweep; several sweeping at once is safe.
 */
import type { Logger } from '../core/logger.js';
import type { JobQueue } from '../stores/queue/port.js';
import type { StateStore } from '../stores/state/port.js';
import { type Dispatcher, stepQueue } from './dispatch.js';
import type { PipelineMetrics } from './metrics.js';
import { failStep, type ReadyStep, type StepAttempt, toReady } from './step-store.js';

export interface SweeperOptions {
  state: StateStore;
  queue: JobQueue;
  dispatcher: Dispatcher;
  logger: Logger;
  heartbeatTimeoutMs: number;
  intervalMs: number;
  metrics?: PipelineMetrics;
}

export interface SweepResult {
  /** Steps taken from a dead worker (retried or failed). */
  lost: number;
  /** Queued steps failed or sent again. */
  repaired: number;
}

interface StepRow {
  run_id: string;
  pipeline: string;
  name: string;
  queue: string;
  max_attempts: number;
  retry_delay_ms: number;
  timeout_ms: unknown;
  job_id: string | null;
  attempts: number;
}

const BATCH = 100;
const STEP_FIELDS = `s.run_id, r.pipeline, s.name, s.queue, s.max_attempts, s.retry_delay_ms, s.timeout_ms,
  s.job_id, s.attempts`;

export class Sweeper {
  readonly #o: SweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<SweepResult> | undefined;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  /** Sweeps every intervalMs until stop(). */
  start(): void {
    this.#timer ??= setInterval(() => {
      this.sweep().catch((err: unknown) => this.#o.logger.warn({ err }, 'pipeline sweep failed'));
    }, this.#o.intervalMs);
  }

  /** Stops sweeping and waits for a sweep under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  /** One sweep; overlapping calls share it. */
  sweep(): Promise<SweepResult> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<SweepResult> {
    let lost = 0;
    for (const row of await this.#silent()) if (await this.#recoverLost(row)) lost++;
    let repaired = 0;
    for (const row of await this.#waiting()) if (await this.#repairWaiting(row)) repaired++;
    return { lost, repaired };
  }

  async #silent(): Promise<StepRow[]> {
    const { rows } = await this.#o.state.query<StepRow>(
      `SELECT ${STEP_FIELDS} FROM pipeline_steps s JOIN pipeline_runs r ON r.run_id = s.run_id
       WHERE s.status = 'RUNNING' AND s.heartbeat_at < now() - $1 * interval '1 millisecond'
       ORDER BY s.heartbeat_at LIMIT ${BATCH}`,
      [this.#o.heartbeatTimeoutMs],
    );
    return rows;
  }

  /** Queued steps that have waited a heartbeat timeout: their job may be gone or dead. */
  async #waiting(): Promise<StepRow[]> {
    const { rows } = await this.#o.state.query<StepRow>(
      `SELECT ${STEP_FIELDS} FROM pipeline_steps s JOIN pipeline_runs r ON r.run_id = s.run_id
       WHERE s.status = 'PENDING' AND s.queued_at IS NOT NULL
         AND s.updated_at < now() - $1 * interval '1 millisecond'
       ORDER BY s.updated_at LIMIT ${BATCH}`,
      [this.#o.heartbeatTimeoutMs],
    );
    return rows;
  }

  async #recoverLost(row: StepRow): Promise<boolean> {
    const a = attemptOf(row);
    const seconds = Math.round(this.#o.heartbeatTimeoutMs / 1000);
    const error = `attempt ${a.attempt} of ${row.max_attempts}: its worker stopped heartbeating (silent for ${seconds} s)`;
    const { affectedRows } = await this.#o.state.query(
      `UPDATE pipeline_steps SET status = 'PENDING', error = $5, heartbeat_at = NULL, updated_at = now()
       WHERE run_id = $1 AND name = $2 AND job_id = $3 AND attempts = $4 AND status = 'RUNNING'
         AND heartbeat_at < now() - $6 * interval '1 millisecond'`,
      [a.runId, a.step, a.jobId, a.attempt, error, this.#o.heartbeatTimeoutMs],
    );
    if (affectedRows === 0) return false;
    const queue = stepQueue(row.queue);
    const state = await this.#o.queue.fail(queue, a.jobId, { message: error }, a.attempt - 1);
    this.#o.logger.warn(
      { runId: a.runId, step: a.step, attempt: a.attempt, job: state },
      'step lost its worker',
    );
    const final = state === 'failed' || (state === null && (await this.#jobFailed(queue, a.jobId)));
    if (final) await this.#fail(row, a, error);
    else this.#o.metrics?.step(row.pipeline, a.step, 'RETRY');
    return true;
  }

  async #repairWaiting(row: StepRow): Promise<boolean> {
    const step: ReadyStep = toReady(row);
    if (row.job_id === null) {
      await this.#o.dispatcher.dispatch([step]);
      return true;
    }
    const job = await this.#o.queue.getJob(stepQueue(row.queue), row.job_id);
    if (job?.state === 'failed') {
      const message = (job.output as { message?: string } | null)?.message ?? 'its job failed';
      const error = `attempt ${job.retryCount + 1} of ${row.max_attempts}: ${message}`;
      await this.#fail(row, attemptOf(row), error);
      return true;
    }
    if (job && job.state !== 'completed' && job.state !== 'cancelled') return false;
    this.#o.logger.warn(
      { runId: row.run_id, step: row.name, job: row.job_id },
      'queued step lost its job; sending it again',
    );
    await this.#o.dispatcher.dispatch([step], row.job_id);
    return true;
  }

  async #jobFailed(queue: string, id: string): Promise<boolean> {
    return (await this.#o.queue.getJob(queue, id))?.state === 'failed';
  }

  async #fail(row: StepRow, a: StepAttempt, error: string): Promise<void> {
    if (await failStep(this.#o.state, a, error, `step ${a.step} failed on ${error}`)) {
      this.#o.metrics?.step(row.pipeline, a.step, 'FAILED');
      this.#o.metrics?.run(row.pipeline, 'FAILED');
    }
  }
}

function attemptOf(row: StepRow): StepAttempt {
  return { runId: row.run_id, step: row.name, jobId: row.job_id ?? '', attempt: Number(row.attempts) };
}
