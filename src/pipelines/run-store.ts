/**
 * Runs in the state store: creation under the idempotency key, reading, listing and resume. A key
 * is held by its active run (PENDING, RUNNING or COMPLETED) through a partial unique index, so
 * concurrent triggers race on INSERT ... ON CONFLICT and exactly one creates the run.
 */
import { isMeridianError, MeridianError } from '../core/errors.js';
import type { SqlExecutor, StateStore } from '../stores/state/port.js';
import { type RunRow, type StepRow, toRunView } from './run-view.js';
import { lockRun, type ReadyStep, takeReady } from './step-store.js';
import type { RunFilter, RunStatus, RunView, TriggerInfo, TriggerResult } from './types.js';

/** A step of a new run with its policies. */
export interface StepPlan {
  name: string;
  needs: readonly string[];
  queue: string;
  maxAttempts: number;
  retryDelayMs: number;
  timeoutMs: number;
}

export interface NewRun {
  runId: string;
  pipeline: string;
  params: Record<string, unknown>;
  logicalDate: Date;
  key: string;
  trigger: TriggerInfo;
  /** In topological order. */
  steps: readonly StepPlan[];
}

export interface Created extends TriggerResult {
  ready: ReadyStep[];
}

/** A key's active run can turn FAILED between a conflict and its read; a few rounds settle that. */
const MAX_ROUNDS = 5;

/**
 * Creates the run unless its key has an active one (then answers that one, created false); `force`
 * retires the active run's hold on the key and always creates. Root steps come back ready.
 */
export async function createRun(state: StateStore, run: NewRun, force: boolean): Promise<Created> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await state.transaction((tx) => tryCreate(tx, run, force));
    if (result) return result;
  }
  throw new MeridianError(
    'CONFLICT',
    `pipeline ${run.pipeline}: the run key kept changing hands while triggering; retry the trigger`,
    { pipeline: run.pipeline, key: run.key },
  );
}

async function tryCreate(tx: SqlExecutor, run: NewRun, force: boolean): Promise<Created | undefined> {
  if (force) {
    await tx.query('UPDATE pipeline_runs SET key_active = false WHERE key = $1 AND key_active', [run.key]);
  }
  const inserted = await tx.query(
    `INSERT INTO pipeline_runs (run_id, pipeline, params, logical_date, key, key_active, trigger, status)
     VALUES ($1, $2, $3::jsonb, $4, $5, true, $6::jsonb, 'PENDING')
     ON CONFLICT (key) WHERE key_active DO NOTHING`,
    [
      run.runId,
      run.pipeline,
      JSON.stringify(run.params),
      run.logicalDate,
      run.key,
      JSON.stringify(run.trigger),
    ],
  );
  if (inserted.affectedRows === 0) {
    if (force) return undefined;
    const { rows } = await tx.query<{ run_id: string; status: RunStatus }>(
      'SELECT run_id, status FROM pipeline_runs WHERE key = $1 AND key_active',
      [run.key],
    );
    const existing = rows[0];
    return existing && { runId: existing.run_id, status: existing.status, created: false, ready: [] };
  }
  await tx.query(
    `INSERT INTO pipeline_steps (run_id, name, position, needs, queue, max_attempts, retry_delay_ms,
       timeout_ms, status)
     SELECT $1, s.name, s.position, s.needs, s.queue, s.max_attempts, s.retry_delay_ms, s.timeout_ms,
       'PENDING'
     FROM jsonb_to_recordset($2::jsonb) AS s(name text, position integer, needs text[], queue text,
       max_attempts integer, retry_delay_ms integer, timeout_ms bigint)`,
    [run.runId, JSON.stringify(run.steps.map(stepRecord))],
  );
  const ready = await takeReady(tx, run.runId);
  return { runId: run.runId, status: 'PENDING', created: true, ready };
}

function stepRecord(step: StepPlan, position: number): Record<string, unknown> {
  return {
    name: step.name,
    position,
    needs: step.needs,
    queue: step.queue,
    max_attempts: step.maxAttempts,
    retry_delay_ms: step.retryDelayMs,
    timeout_ms: step.timeoutMs,
  };
}

const RUN_COLUMNS = `run_id, pipeline, params, logical_date, key, trigger, status, error, created_at,
  started_at, finished_at`;
const STEP_COLUMNS = `run_id, name, status, attempts, error, queue, output, started_at, finished_at`;

async function stepsOf(db: SqlExecutor, runIds: string[]): Promise<Map<string, StepRow[]>> {
  const { rows } = await db.query<StepRow>(
    `SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE run_id = ANY ($1::text[]) ORDER BY run_id, position`,
    [runIds],
  );
  const byRun = new Map<string, StepRow[]>();
  for (const row of rows) byRun.set(row.run_id, [...(byRun.get(row.run_id) ?? []), row]);
  return byRun;
}

function notFound(runId: string): MeridianError {
  return new MeridianError('NOT_FOUND', `run ${JSON.stringify(runId)} does not exist`, {
    field: 'runId',
    hint: 'list runs with GET /v1/runs or `meridian runs list`',
  });
}

/** The run with its steps; NOT_FOUND when there is none. */
export async function readRun(db: SqlExecutor, runId: string): Promise<RunView> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM pipeline_runs WHERE run_id = $1`, [
    runId,
  ]);
  const run = rows[0];
  if (!run) throw notFound(runId);
  return toRunView(run, (await stepsOf(db, [runId])).get(runId) ?? []);
}

/** Runs, newest first. */
export async function listRuns(db: SqlExecutor, filter: RunFilter = {}): Promise<RunView[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM pipeline_runs
     WHERE ($1::text IS NULL OR pipeline = $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, run_id DESC LIMIT $3`,
    [filter.pipeline ?? null, filter.status ?? null, filter.limit ?? 50],
  );
  const steps = await stepsOf(
    db,
    rows.map((r) => r.run_id),
  );
  return rows.map((r) => toRunView(r, steps.get(r.run_id) ?? []));
}

/**
 * Puts a FAILED run's FAILED and UPSTREAM_FAILED steps back to PENDING (COMPLETED ones keep their
 * outputs) and answers the steps ready again. The run takes its key back, unless a newer run holds it.
 */
export async function resumeRun(state: StateStore, runId: string): Promise<ReadyStep[]> {
  try {
    return await state.transaction((tx) => resumeIn(tx, runId));
  } catch (err) {
    // A trigger of the same key committed between the check and the update.
    if (isMeridianError(err, 'ALREADY_EXISTS') && err.details.constraint === 'pipeline_runs_active_key') {
      throw new MeridianError('CONFLICT', `run ${runId} cannot be resumed: a newer run of its key started`, {
        field: 'runId',
      });
    }
    throw err;
  }
}

async function resumeIn(tx: SqlExecutor, runId: string): Promise<ReadyStep[]> {
  const status = await lockRun(tx, runId);
  if (status === null) throw notFound(runId);
  if (status !== 'FAILED') {
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `run ${runId} is ${status}; only a FAILED run can be resumed`,
      { field: 'runId', status },
    );
  }
  const holder = await tx.query<{ run_id: string }>(
    `SELECT o.run_id FROM pipeline_runs o JOIN pipeline_runs r ON r.key = o.key
       WHERE r.run_id = $1 AND o.key_active`,
    [runId],
  );
  if (holder.rows[0]) {
    throw new MeridianError(
      'CONFLICT',
      `run ${runId} cannot be resumed: run ${holder.rows[0].run_id} of the same pipeline, parameters and logical date was started after it failed`,
      { field: 'runId', activeRun: holder.rows[0].run_id },
    );
  }
  await tx.query(
    `UPDATE pipeline_steps SET status = 'PENDING', attempts = 0, error = NULL, output = NULL,
         job_id = NULL, queued_at = NULL, started_at = NULL, finished_at = NULL, heartbeat_at = NULL,
         updated_at = now()
       WHERE run_id = $1 AND status IN ('FAILED', 'UPSTREAM_FAILED')`,
    [runId],
  );
  await tx.query(
    `UPDATE pipeline_runs SET status = 'RUNNING', error = NULL, finished_at = NULL, key_active = true
       WHERE run_id = $1`,
    [runId],
  );
  return takeReady(tx, runId);
}
