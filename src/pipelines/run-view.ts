/** Rows of the runs and steps tables as the REST shapes (RunView, StepView) answer them. */
import type { RunStatus, RunView, StepOutput, StepStatus, StepView, TriggerInfo } from './types.js';

export interface RunRow {
  run_id: string;
  pipeline: string;
  params: Record<string, unknown>;
  logical_date: Date | string;
  key: string;
  trigger: TriggerInfo;
  status: RunStatus;
  error: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

export interface StepRow {
  run_id: string;
  name: string;
  status: StepStatus;
  attempts: number;
  error: string | null;
  queue: string;
  output: StepOutput | null;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const iso = (value: Date | string): string => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

function toStepView(row: StepRow): StepView {
  const started = row.started_at === null ? null : new Date(row.started_at).getTime();
  const finished = row.finished_at === null ? null : new Date(row.finished_at).getTime();
  return {
    name: row.name,
    status: row.status,
    attempts: Number(row.attempts),
    error: row.error,
    queue: row.queue,
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: started !== null && finished !== null ? finished - started : null,
    output: row.status === 'COMPLETED' ? (row.output ?? {}) : null,
  };
}

/** The run and its steps (in topological order) as `GET /v1/runs/{runId}` answers them. */
export function toRunView(run: RunRow, steps: readonly StepRow[]): RunView {
  return {
    runId: run.run_id,
    pipeline: run.pipeline,
    status: run.status,
    params: run.params,
    logicalDate: iso(run.logical_date),
    key: run.key,
    trigger: run.trigger,
    error: run.error,
    createdAt: iso(run.created_at),
    startedAt: isoOrNull(run.started_at),
    finishedAt: isoOrNull(run.finished_at),
    steps: steps.map(toStepView),
  };
}
