/**
 * The demo's monitoring step, after the first half of the predictions: the deployed version's
 * training set (its inputs and its churn probability per row, train.py's reference.csv) becomes its
 * baseline; the generator shifts (./shift.ts) and pushes one shifted event per user; every user is
 * predicted once more; the monitor's on-demand window drift over that second phase and its firing
 * alerts are read back through the REST API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeridianError } from '../core/errors.js';
import type { ColumnDrift } from '../monitoring/drift/types.js';
import type { ActivityEvent } from './generator.js';
import { writeChurnLabels } from './labels.js';
import { MODEL_NAME, type ModelReport } from './model.js';
import type { EntityRow } from './probes.js';
import { inputsOf, SHIFT, shiftedEvents } from './shift.js';

export const PREDICTION_COLUMN = 'churn_probability';
const AMOUNT_INPUT = 'user_activity:amount';
const PUSH_BATCH = 1000;
const ONLINE_CHUNK = 1000;
const USERS_PER_REQUEST = 4;
const CONCURRENCY = 8;
const WAIT_MS = 15_000;

export interface DriftStepOptions {
  url: string;
  model: ModelReport;
  source: string;
  users: number;
  seed: number;
  /** The rows the model was trained on: with a row per shifted user after them, the fresh label file. */
  entities: readonly EntityRow[];
  /** Rows of the model's prediction log in [from, to), read from the offline store. */
  countLogged(from: Date, to: Date): Promise<number>;
}

/** A firing alert as the summary shows it. */
export interface FiringAlert {
  rule: string;
  severity: string;
  feature: string | null;
  value: number;
  labels: Record<string, string>;
}

/** What the monitor found over the shifted half of the predictions. */
export interface DriftStepReport {
  shift: typeof SHIFT;
  baseline: { file: string; rows: number; features: string[]; prediction: string };
  /** Shifted events pushed and users predicted after the shift, each once. */
  shiftedEvents: number;
  predicted: number;
  predictErrors: number;
  window: { from: string; to: string };
  status: 'insufficient_data' | 'compared';
  rows: number;
  minRows: number;
  datasetDrift: boolean | null;
  driftShare: number | null;
  /** Per model input: the `POST /v1/drift` column. */
  features: Record<string, ColumnDrift>;
  prediction: (ColumnDrift & { column: string }) | null;
  /** Firing alerts of this model version. */
  alerts: FiringAlert[];
  elapsedMs: number;
}

/** Uploads the baseline, shifts and predicts again, and reads the window drift and firing alerts. */
export async function runDriftStep(options: DriftStepOptions): Promise<DriftStepReport> {
  const started = performance.now();
  const baseline = await uploadBaseline(options.url, options.model);
  const events = shiftedEvents(trainingAmounts(baseline.file), options.users, options.seed, Date.now());
  await pushEvents(options.url, options.source, events);
  await waitOnline(options.url, events);
  const from = new Date();
  const errors = await predictEach(options.url, events.length);
  const to = new Date(Date.now() + 1);
  const predicted = events.length - errors;
  await waitLogged(options, from, to, predicted);
  // Fresh ground truth before the window is compared: the drift alert retrains from this file.
  const fresh = events.map((e) => ({
    user_id: e.user_id,
    event_timestamp: new Date(Date.parse(e.ts) + 1000).toISOString(),
  }));
  await writeChurnLabels(
    options.url,
    options.model.featureService,
    [...options.entities, ...fresh],
    options.model.labelsFile,
    options.seed + 1,
  );
  const drift = await request(options.url, 'POST', versionPath(options.model.version, 'drift'), {
    from: from.toISOString(),
    to: to.toISOString(),
  });
  const firing = await request(options.url, 'GET', '/v1/alerts?state=firing');
  return {
    shift: SHIFT,
    baseline,
    shiftedEvents: events.length,
    predicted,
    predictErrors: errors,
    window: { from: from.toISOString(), to: to.toISOString() },
    status: drift.status as DriftStepReport['status'],
    rows: Number(drift.rows),
    minRows: Number(drift.minRows),
    datasetDrift: drift.datasetDrift as boolean | null,
    driftShare: drift.driftShare as number | null,
    features: drift.columns as Record<string, ColumnDrift>,
    prediction: drift.prediction as DriftStepReport['prediction'],
    alerts: versionAlerts(firing.alerts, options.model.version),
    elapsedMs: Math.round(performance.now() - started),
  };
}

function versionPath(version: number, leaf: string): string {
  return `/v1/models/${MODEL_NAME}/versions/${version}/${leaf}`;
}

async function uploadBaseline(url: string, model: ModelReport): Promise<DriftStepReport['baseline']> {
  const file = join(model.trainingSetFile, '..', 'reference.csv');
  const form = new FormData();
  form.append('prediction', PREDICTION_COLUMN);
  form.append('file', new Blob([readFileSync(file)]), 'reference.csv');
  const body = await request(url, 'PUT', versionPath(model.version, 'baseline'), form);
  return {
    file,
    rows: Number(body.rows),
    features: body.features as string[],
    prediction: String(body.prediction),
  };
}

/** The non-null `user_activity:amount` values of the reference file (train.py writes plain numbers). */
function trainingAmounts(file: string): number[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const column = header!.split(',').indexOf(AMOUNT_INPUT);
  if (column < 0) throw new MeridianError('INTERNAL', `${file} has no column ${AMOUNT_INPUT}`);
  return lines
    .map((line) => line.split(',')[column]!)
    .filter((cell) => cell !== '')
    .map(Number);
}

async function pushEvents(url: string, source: string, events: readonly ActivityEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += PUSH_BATCH) {
    const batch = events.slice(i, i + PUSH_BATCH);
    const body = await request(url, 'POST', `/v1/sources/${source}/events`, { events: batch });
    if (Number(body.accepted) !== batch.length) {
      throw new MeridianError(
        'INTERNAL',
        `the push of ${batch.length} shifted events stored ${String(body.accepted)}`,
      );
    }
  }
}

/** Waits until every user's model inputs online are those of its shifted event. */
async function waitOnline(url: string, events: readonly ActivityEvent[]): Promise<void> {
  const features = Object.keys(inputsOf(events[0]!));
  const deadline = Date.now() + WAIT_MS;
  for (let i = 0; i < events.length; ) {
    const chunk = events.slice(i, i + ONLINE_CHUNK);
    const body = await request(url, 'POST', '/get-online-features', {
      features,
      entities: { user_id: chunk.map((e) => e.user_id) },
    });
    const results = body.results as { values: unknown[] }[];
    const current = chunk.every((event, row) =>
      Object.values(inputsOf(event)).every((want, f) => sameValue(results[f + 1]?.values[row], want)),
    );
    if (current) i += ONLINE_CHUNK;
    else if (Date.now() > deadline) {
      throw new MeridianError('UNAVAILABLE', `the shifted events were not online within ${WAIT_MS / 1000} s`);
    } else await sleep(100);
  }
}

function sameValue(got: unknown, want: number): boolean {
  if (got === null || got === undefined) return false;
  return Number(got) === want;
}

/** Predicts users 1..users once each, a few per request; answers the users whose request failed. */
async function predictEach(url: string, users: number): Promise<number> {
  const endpoint = `${url}/v1/models/${MODEL_NAME}/predict`;
  let next = 1;
  let failed = 0;
  const client = async () => {
    while (next <= users) {
      const first = next;
      next += USERS_PER_REQUEST;
      const ids = Array.from({ length: Math.min(USERS_PER_REQUEST, users - first + 1) }, (_, i) => first + i);
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entities: { user_id: ids } }),
        signal: AbortSignal.timeout(30_000),
      }).catch(() => undefined);
      await response?.body?.cancel();
      if (!response?.ok) failed += ids.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return failed;
}

/** The prediction log reaches the offline store asynchronously: waits until the window holds it all. */
async function waitLogged(options: DriftStepOptions, from: Date, to: Date, rows: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while ((await options.countLogged(from, to)) < rows) {
    if (Date.now() > deadline) {
      throw new MeridianError(
        'UNAVAILABLE',
        `the ${rows} predictions were not logged within ${WAIT_MS / 1000} s`,
      );
    }
    await sleep(100);
  }
}

function versionAlerts(alerts: unknown, version: number): FiringAlert[] {
  return (alerts as { rule: string; severity: string; value: number; labels: Record<string, string> }[])
    .filter((a) => a.labels.model === MODEL_NAME && a.labels.version === String(version))
    .map((a) => ({
      rule: a.rule,
      severity: a.severity,
      feature: a.labels.feature ?? null,
      value: a.value,
      labels: a.labels,
    }));
}

async function request(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(60_000) };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`${url}${path}`, init);
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new MeridianError(
      'INTERNAL',
      `${method} ${path} answered ${response.status}: ${String(parsed.error ?? 'no error message')}`,
    );
  }
  return parsed;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
