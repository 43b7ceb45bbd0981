/**
 * The step transitions in the state store. Every transition that decides for other steps
 * (completion, failure, resume) first locks the run's row, so completions of sibling steps
 * serialize and each sees the other's result when it decides which steps became ready; a claim
 * touches only its own step (and the run's row on the run's first claim). Attempts are fenced by
 * job id and attempt number: a late answer of an attempt that was given up on (its worker was
 * taken as dead) changes nothing.
 */
import type { SqlExecutor, StateStore } from '../stores/state/port.js';
import type { StepOutput } from './types.js';

/** A step whose needs are all met, to be sent to its queue. */
export interface ReadyStep {
  runId: string;
  pipeline: string;
  name: string;
  queue: string;
  maxAttempts: number;
  retryDelayMs: number;
  timeoutMs: number;
}

/** One attempt of one step, as its job carries it. */
export interface StepAttempt {
  runId: string;
  step: string;
  jobId: string;
  /** 1 on the first attempt. */
  attempt: number;
}

/** What a claimed attempt runs with. */
export interface ClaimedStep {
  pipeline: string;
  params: Record<string, unknown>;
  logicalDate: Date;
  maxAttempts: number;
  inputs: Record<string, StepOutput>;
}

interface ReadyRow {
  run_id: string;
  pipeline: string;
  name: string;
  queue: string;
  max_attempts: number;
  retry_delay_ms: number;
  timeout_ms: unknown;
}

/** Locks the run's row for the rest of the transaction; its status, or null when there is no such run. */
export async function lockRun(tx: SqlExecutor, runId: string): Promise<string | null> {
  const { rows } = await tx.query<{ status: string }>(
    'SELECT status FROM pipeline_runs WHERE run_id = $1 FOR UPDATE',
    [runId],
  );
  return rows[0]?.status ?? null;
}

/**
 * Marks the run's PENDING steps whose needs all COMPLETED as queued and answers them (run locked);
 * pipeline_complete_step (migrations.ts) does the same on completion.
 */
export async function takeReady(tx: SqlExecutor, runId: string): Promise<ReadyStep[]> {
  const { rows } = await tx.query<ReadyRow>(
    `UPDATE pipeline_steps s SET queued_at = now(), updated_at = now()
     FROM pipeline_runs r
     WHERE s.run_id = $1 AND r.run_id = s.run_id AND s.status = 'PENDING' AND s.queued_at IS NULL
       AND NOT EXISTS (
         SELECT 1 FROM pipeline_steps n
         WHERE n.run_id = s.run_id AND n.name = ANY (s.needs) AND n.status <> 'COMPLETED')
     RETURNING s.run_id, r.pipeline, s.name, s.queue, s.max_attempts, s.retry_delay_ms, s.timeout_ms`,
    [runId],
  );
  return rows.map(toReady);
}

export function toReady(row: ReadyRow): ReadyStep {
  return {
    runId: row.run_id,
    pipeline: row.pipeline,
    name: row.name,
    queue: row.queue,
    maxAttempts: Number(row.max_attempts),
    retryDelayMs: Number(row.retry_delay_ms),
    timeoutMs: Number(row.timeout_ms),
  };
}

/** A step's job as the dispatcher sent it. */
export interface SentJob {
  step: ReadyStep;
  jobId: string;
}

/**
 * Records the jobs steps were sent as, in one statement, each unless its step's job changed
 * meanwhile (compare-and-set on `previous`).
 */
export async function recordJobs(
  state: StateStore,
  sent: readonly SentJob[],
  previous: string | null,
): Promise<void> {
  if (sent.length === 0) return;
  await state.query(
    `UPDATE pipeline_steps s SET job_id = j.job_id, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::text[]) AS j(run_id, name, job_id)
     WHERE s.run_id = j.run_id AND s.name = j.name AND s.status = 'PENDING'
       AND s.job_id IS NOT DISTINCT FROM $4`,
    [sent.map((j) => j.step.runId), sent.map((j) => j.step.name), sent.map((j) => j.jobId), previous],
  );
}

/**
 * Starts an attempt: the step becomes RUNNING with this attempt number and job, unless it finished,
 * belongs to another job, or already saw this attempt. Null when the attempt must not run. One
 * statement, without the run's lock: the step's own row is the compare-and-set, the inputs were
 * committed before the step was queued, and the run's row is written only by the run's first claim.
 */
export async function claimStep(state: StateStore, a: StepAttempt): Promise<ClaimedStep | null> {
  const { rows } = await state.query<{
    needs: string[];
    max_attempts: number;
    pipeline: string;
    params: Record<string, unknown>;
    logical_date: Date;
    inputs: Record<string, StepOutput | null> | null;
  }>(
    `WITH step AS (
       UPDATE pipeline_steps SET status = 'RUNNING', attempts = $4, job_id = $3, started_at = now(),
         finished_at = NULL, heartbeat_at = now(), updated_at = now()
       WHERE run_id = $1 AND name = $2 AND status IN ('PENDING', 'RUNNING')
         AND (job_id IS NULL OR job_id = $3) AND attempts < $4
       RETURNING needs, max_attempts),
     -- A data-modifying WITH runs whether or not it is read.
     started AS (
       UPDATE pipeline_runs SET status = 'RUNNING', started_at = COALESCE(started_at, now())
       WHERE run_id = $1 AND status = 'PENDING' AND EXISTS (SELECT 1 FROM step))
     SELECT step.needs, step.max_attempts, r.pipeline, r.params, r.logical_date,
       (SELECT jsonb_object_agg(i.name, i.output) FROM pipeline_steps i
        WHERE i.run_id = $1 AND i.name = ANY (step.needs)) AS inputs
     FROM step JOIN pipeline_runs r ON r.run_id = $1`,
    [a.runId, a.step, a.jobId, a.attempt],
  );
  const row = rows[0];
  if (!row) return null;
  const inputs = row.inputs ?? {};
  return {
    pipeline: row.pipeline,
    params: row.params,
    logicalDate: new Date(row.logical_date),
    maxAttempts: Number(row.max_attempts),
    inputs: Object.fromEntries(Object.entries(inputs).map(([name, output]) => [name, output ?? {}])),
  };
}

const FENCE = `run_id = $1 AND name = $2 AND job_id = $3 AND attempts = $4`;
const fence = (a: StepAttempt): [string, string, string, number] => [a.runId, a.step, a.jobId, a.attempt];

/** Tells the store the attempt is alive; false when the step is no longer this attempt's (stop it). */
export async function heartbeatStep(state: StateStore, a: StepAttempt): Promise<boolean> {
  const { affectedRows } = await state.query(
    `UPDATE pipeline_steps SET heartbeat_at = now() WHERE ${FENCE} AND status = 'RUNNING'`,
    fence(a),
  );
  return affectedRows > 0;
}

export interface Completion {
  ready: ReadyStep[];
  /** Whether this completion finished the run. */
  runCompleted: boolean;
}

/**
 * Completes the attempt with its output and takes the steps that became ready, in one transaction.
 * Null when the attempt was no longer the step's (a duplicate or late completion changes nothing).
 */
export async function completeStep(
  state: StateStore,
  a: StepAttempt,
  output: StepOutput,
): Promise<Completion | null> {
  // pipeline_complete_step (migration 401) locks the run, completes the step, takes the ready steps
  // and completes the run, each statement seeing the siblings completed before it.
  const { rows } = await state.query<{ done: { ready: ReadyRow[]; runCompleted: boolean } | null }>(
    'SELECT pipeline_complete_step($1, $2, $3, $4, $5::jsonb) AS done',
    [...fence(a), JSON.stringify(output)],
  );
  const done = rows[0]?.done;
  if (!done) return null;
  return { ready: done.ready.map(toReady), runCompleted: done.runCompleted };
}

/** An attempt failed with attempts left: the step waits (PENDING) for its job's retry. */
export async function retryStep(state: StateStore, a: StepAttempt, error: string): Promise<boolean> {
  const { affectedRows } = await state.query(
    `UPDATE pipeline_steps SET status = 'PENDING', error = $5, finished_at = now(), heartbeat_at = NULL,
       updated_at = now()
     WHERE ${FENCE} AND status = 'RUNNING'`,
    [...fence(a), error],
  );
  return affectedRows > 0;
}

/**
 * The last attempt failed: the step is FAILED with `error`, every step downstream of it that has
 * not run is UPSTREAM_FAILED, and the run is FAILED with `runError` (the first failure's, when a
 * sibling failed first), freeing its key for a new run. False when the attempt was not the step's.
 */
export async function failStep(
  state: StateStore,
  a: StepAttempt,
  error: string,
  runError: string,
): Promise<boolean> {
  return state.transaction(async (tx) => {
    await lockRun(tx, a.runId);
    const failed = await tx.query(
      `UPDATE pipeline_steps SET status = 'FAILED', error = $5, finished_at = now(), heartbeat_at = NULL,
         updated_at = now()
       WHERE ${FENCE} AND status IN ('RUNNING', 'PENDING')`,
      [...fence(a), error],
    );
    if (failed.affectedRows === 0) return false;
    await tx.query(
      `WITH RECURSIVE downstream (name) AS (
         SELECT s.name FROM pipeline_steps s WHERE s.run_id = $1 AND $2 = ANY (s.needs)
         UNION
         SELECT s.name FROM pipeline_steps s JOIN downstream d ON d.name = ANY (s.needs) WHERE s.run_id = $1)
       UPDATE pipeline_steps SET status = 'UPSTREAM_FAILED', updated_at = now(),
         error = 'step ' || $2 || ' failed'
       WHERE run_id = $1 AND status = 'PENDING' AND name IN (SELECT name FROM downstream)`,
      [a.runId, a.step],
    );
    await tx.query(
      `UPDATE pipeline_runs SET status = 'FAILED', key_active = false, finished_at = now(),
         error = CASE WHEN status = 'FAILED' THEN error ELSE $2 END
       WHERE run_id = $1`,
      [a.runId, runError],
    );
    return true;
  });
}
