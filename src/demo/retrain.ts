/**
 * The demo's retraining: the drift alert that fired starts the built-in `train` pipeline for the
 * churn model (the monitor's retrain hook, through the orchestrator's API). This waits for that run
 * and reads what it decided: its steps, both versions' holdout scores and the promotion.
 */
import { MeridianError } from '../core/errors.js';
import { DEFAULT_ALERT_RULES } from '../monitoring/alerts/default-rules.js';

const WAIT_MS = 240_000;

/** The default rules whose firing starts retraining. */
export const RETRAIN_RULES: readonly string[] = DEFAULT_ALERT_RULES.filter((r) => r.retrain).map(
  (r) => r.name,
);

export interface RetrainReport {
  runId: string;
  status: string;
  reason: string;
  logicalDate: string;
  steps: { name: string; status: string; attempts: number; durationMs: number | null }[];
  /** The `decide` step's checkpoint: metric, both scores, both versions, the decision and why. */
  decision: {
    decision: 'promoted' | 'kept';
    reason: string;
    metric: string;
    candidate: number | null;
    production: number | null;
    candidateVersion: number;
    productionVersion: number | null;
  } | null;
  /** The fitted model's holdout metrics as the trainer measured them. */
  candidateMetrics: Record<string, unknown> | null;
  error: string | null;
  elapsedMs: number;
}

interface RunBody {
  runId: string;
  status: string;
  logicalDate: string;
  params: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  steps: {
    name: string;
    status: string;
    attempts: number;
    durationMs: number | null;
    output: Record<string, unknown> | null;
  }[];
}

async function get<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new MeridianError('INTERNAL', `GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

async function alertRun(url: string, model: string, since: number): Promise<RunBody | undefined> {
  const { runs } = await get<{ runs: RunBody[] }>(url, '/v1/runs?pipeline=train&limit=20');
  return runs.find(
    (r) =>
      r.params.model === model &&
      Date.parse(r.createdAt) >= since &&
      Object.keys((r.params.alert as object) ?? {}).length > 0,
  );
}

/** Waits for the alert-started train run of `model` (created after `since`) to end, and reports it. */
export async function waitForRetrain(url: string, model: string, since: number): Promise<RetrainReport> {
  const started = performance.now();
  const deadline = Date.now() + WAIT_MS;
  let run: RunBody | undefined;
  while (Date.now() < deadline) {
    run = await alertRun(url, model, since);
    if (run && (run.status === 'COMPLETED' || run.status === 'FAILED')) break;
    await new Promise((done) => setTimeout(done, 250));
  }
  if (!run) {
    throw new MeridianError(
      'INTERNAL',
      `no train run was started for ${model} within ${WAIT_MS / 1000} s of the drift alert; see GET /v1/runs`,
    );
  }
  const output = (step: string) => run.steps.find((s) => s.name === step)?.output ?? null;
  return {
    runId: run.runId,
    status: run.status,
    reason: String(run.params.reason ?? ''),
    logicalDate: run.logicalDate,
    steps: run.steps.map((s) => ({
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      durationMs: s.durationMs,
    })),
    decision: output('decide') as RetrainReport['decision'],
    candidateMetrics: (output('fit')?.metrics as Record<string, unknown> | undefined) ?? null,
    error: run.error,
    elapsedMs: Math.round(performance.now() - started),
  };
}
