/**
 * The demo's model step: a point-in-time training set written to the data dir, an XGBoost churn
 * model trained on it by `examples/churn/train.py` (Debian's python3-xgboost, no pip), pushed to the
 * registry with its input order and holdout metrics, promoted to production, and ready to serve.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MeridianError } from '../core/errors.js';
import { MeridianClient } from '../sdk/client.js';
import type { MissingPolicy, ModelDescription, ModelVersion } from '../serving/model-version.js';
import { ActivityGenerator } from './generator.js';
import { LABEL_COLUMN, writeChurnLabels } from './labels.js';
import type { EntityRow } from './probes.js';

const run = promisify(execFile);

/** The interpreter that trains the model; Debian's, which has python3-xgboost. */
export const PYTHON = process.env.MERIDIAN_PYTHON ?? '/usr/bin/python3';
export const TRAIN_SCRIPT = resolve(import.meta.dirname, '../../examples/churn/train.py');
export const MODEL_NAME = 'churn';
const INSTALL_HINT = 'install it with: apt-get install -y python3-xgboost';
const TRAIN_TIMEOUT_MS = 120_000;
/** Above the model server's 60 s worker warm-up bound, so its own error shows first. */
const READY_TIMEOUT_MS = 90_000;

/** What train.py prints: the holdout evaluation and how the model was fitted. */
export interface TrainingMetrics {
  rows: number;
  trainRows: number;
  holdoutRows: number;
  /** The earliest event_timestamp of the holdout: every training row is at or before it. */
  holdoutFrom: string;
  positiveRate: number;
  /** Null when the holdout has only one class. */
  holdoutAuc: number | null;
  holdoutLogloss: number;
  /** The logloss of always predicting the training set's churn rate: the bar to beat. */
  baselineLogloss: number;
  rowsWithFeatures: number;
  /** Service features in the model's input column order. */
  inputs: string[];
  trees: number;
  maxDepth: number;
  seed: number;
  xgboost: string;
  trainSeconds: number;
}

/** The model the demo trained and deployed, as the registry describes it once it serves. */
export interface ModelReport {
  name: string;
  version: number;
  /** The registry's stage of the version and the model's production version, read back after the promotion. */
  stage: string;
  productionVersion: number | null;
  featureService: string;
  inputs: string[];
  missingPolicy: MissingPolicy | null;
  trainingSetFile: string;
  /** The label source registered in the version's training spec (the train pipeline reads it). */
  labelsFile: string;
  modelFile: string;
  metrics: TrainingMetrics;
  /** Writing the training set, training, pushing and promoting, until the model answered ready. */
  elapsedMs: number;
}

export interface DeployOptions {
  url: string;
  dataDir: string;
  featureService: string;
  entities: readonly EntityRow[];
  seed: number;
}

/** FAILED_PRECONDITION naming the fix unless PYTHON runs and imports xgboost; resolves with its version. */
export async function checkPythonXgboost(): Promise<string> {
  try {
    const { stdout } = await run(PYTHON, ['-c', 'import numpy, xgboost; print(xgboost.__version__)'], {
      timeout: 30_000,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const problem =
      e.code === 'ENOENT'
        ? `there is no Python at ${PYTHON}`
        : `${PYTHON} cannot import xgboost (${lastLine(e.stderr ?? e.message)})`;
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `meridian demo trains an XGBoost model with ${TRAIN_SCRIPT}, but ${problem}; ${INSTALL_HINT}`,
      { field: 'python', python: PYTHON },
    );
  }
}

/** Users drawn with the traffic's skew at times spread over the traffic, so most rows have features. */
export function modelEntityRows(
  rows: number,
  users: number,
  seed: number,
  startedAt: number,
  endedAt: number,
): EntityRow[] {
  const generator = new ActivityGenerator({ users, seed: seed + 2_000_003 });
  return Array.from({ length: rows }, () => ({
    user_id: generator.userId(),
    event_timestamp: new Date(Math.floor(startedAt + generator.next() * (endedAt - startedAt))).toISOString(),
  }));
}

/** Trains, pushes and promotes the churn model and waits until it serves. */
export async function deployChurnModel(options: DeployOptions): Promise<ModelReport> {
  const started = performance.now();
  const dir = join(options.dataDir, 'churn-model');
  mkdirSync(dir, { recursive: true });
  const trainingSetFile = join(dir, 'training-set.csv');
  const client = new MeridianClient({ url: options.url, timeoutMs: 120_000 });
  await client.getHistoricalFeatures(
    options.entities,
    { featureService: options.featureService },
    { format: 'csv', out: trainingSetFile },
  );
  const metrics = await train(trainingSetFile, dir, options.seed);
  const labelsFile = join(dir, 'labels.csv');
  await writeChurnLabels(options.url, options.featureService, options.entities, labelsFile, options.seed);
  const modelFile = join(dir, 'model.json');
  const version = await push(options, modelFile, {
    ...metrics,
    training: trainingSpec(options.featureService, labelsFile),
  });
  await promote(options.url, version);
  await waitServing(options.url, version);
  const registered = await get<ModelVersion>(options.url, `/v1/models/${MODEL_NAME}/versions/${version}`);
  const described = await get<ModelDescription>(options.url, `/v1/models/${MODEL_NAME}`);
  return {
    name: MODEL_NAME,
    version,
    stage: registered.stage,
    productionVersion: described.productionVersion ?? null,
    featureService: registered.featureService ?? '',
    inputs: registered.inputs ?? [],
    missingPolicy: registered.missingPolicy ?? null,
    trainingSetFile,
    labelsFile,
    modelFile,
    metrics,
    elapsedMs: Math.round(performance.now() - started),
  };
}

async function train(trainingSet: string, outDir: string, seed: number): Promise<TrainingMetrics> {
  const args = [TRAIN_SCRIPT, '--training-set', trainingSet, '--out-dir', outDir, '--seed', String(seed)];
  try {
    const { stdout } = await run(PYTHON, args, { timeout: TRAIN_TIMEOUT_MS });
    return JSON.parse(lastLine(stdout)) as TrainingMetrics;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new MeridianError(
      'INTERNAL',
      `${PYTHON} ${args.join(' ')} failed: ${lastLine(e.stderr || e.message)}`,
      { field: 'train' },
    );
  }
}

/** Pushes model.json with the service features it was trained on and NaN for a missing value, as in training. */
/**
 * What the train pipeline retrains this model from when only its name is given: the same feature
 * service, the demo's label file, and the built-in trainer's boosted trees.
 */
function trainingSpec(featureService: string, labels: string) {
  return { featureService, labels, labelColumn: LABEL_COLUMN, algorithm: 'gbt', objective: 'binary' };
}

async function push(
  options: DeployOptions,
  modelFile: string,
  metrics: TrainingMetrics & { training: ReturnType<typeof trainingSpec> },
): Promise<number> {
  const form = new FormData();
  form.append('format', 'xgboost');
  form.append('featureService', options.featureService);
  form.append('inputs', metrics.inputs.join(','));
  form.append('missing', JSON.stringify({ default: 'nan' }));
  form.append('metrics', JSON.stringify(metrics));
  form.append('createdBy', 'meridian demo');
  form.append('file', new Blob([readFileSync(modelFile)]), 'model.json');
  const body = await call(options.url, `/v1/models/${MODEL_NAME}/versions`, form);
  return body.version as number;
}

async function promote(url: string, version: number): Promise<void> {
  await call(
    url,
    `/v1/models/${MODEL_NAME}/versions/${version}/stage`,
    JSON.stringify({ stage: 'production' }),
  );
}

/**
 * Polls OIP until the version is loaded and is the one answering by default: with an earlier
 * production version in the data dir, `/v2/models/churn/ready` alone would answer for that one.
 */
async function waitServing(url: string, version: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const base = `${url}/v2/models/${MODEL_NAME}`;
  while (Date.now() < deadline) {
    const ready = await fetch(`${base}/versions/${version}/ready`).catch(() => undefined);
    await ready?.body?.cancel();
    if (ready?.ok) {
      const metadata = await fetch(base).catch(() => undefined);
      const body = (await metadata?.json().catch(() => ({}))) as { versions?: string[] } | undefined;
      if (metadata?.ok && body?.versions?.[0] === String(version)) return;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new MeridianError(
    'UNAVAILABLE',
    `model "${MODEL_NAME}" version ${version} was promoted but ${base} did not serve it within ` +
      `${READY_TIMEOUT_MS / 1000} s; see the server log (MERIDIAN_LOG_LEVEL=info)`,
  );
}

async function get<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new MeridianError('INTERNAL', `GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

async function call(url: string, path: string, body: FormData | string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> =
    typeof body === 'string' ? { 'content-type': 'application/json' } : {};
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new MeridianError(
      'INTERNAL',
      `POST ${path} answered ${response.status}: ${String(parsed.error ?? 'no error message')}`,
    );
  }
  return parsed;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
