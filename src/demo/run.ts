/**
 * `meridian demo`: the whole platform on embedded stores in one process, the churn example applied
 * through the SDK, generated traffic through the public push API, then a point-in-time training set,
 * an XGBoost churn model trained on one and deployed, a bounded load of hydrated predictions, then a
 * shift of the traffic and the monitor's drift and alerts over the predictions after it (./drift.ts).
 * Everything the demo reads back goes through the same REST API a user would call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDefinitions } from '../cli/apply.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { sourceTable } from '../features/layout.js';
import { Platform } from '../platform.js';
import { MeridianClient } from '../sdk/client.js';
import { type DriftStepReport, runDriftStep } from './drift.js';
import { runFileProducer } from './file-producer.js';
import { ActivityGenerator, runPushProducer } from './generator.js';
import {
  checkPythonXgboost,
  deployChurnModel,
  MODEL_NAME,
  type ModelReport,
  modelEntityRows,
} from './model.js';
import { type PredictLoadReport, runPredictLoad } from './predict-load.js';
import { buildTrainingSet, countOnlineEntities, type EntityRow, type TrainingSet } from './probes.js';
import { ProgressReporter } from './progress.js';
import { RETRAIN_RULES, type RetrainReport, waitForRetrain } from './retrain.js';
import { type PathTally, type Rejection, Tally } from './tally.js';

export const CHURN_EXAMPLE = resolve(import.meta.dirname, '../../examples/churn/features.ts');
const SOURCE = 'activity';
const SERVICE = 'churn_model';
const ONLINE_FEATURE = 'user_activity:amount';
const FILE_INTERVAL_MS = 10_000;
/** Bounds of the prediction load: whichever of the request count and this comes first. */
const PREDICT_MAX_MS = 8_000;
const PREDICT_CONCURRENCY = 8;
const USERS_PER_PREDICTION = 4;

export interface DemoOptions {
  durationMs: number;
  users: number;
  /** Events per second over all producers. */
  rate: number;
  producers: number;
  seed: number;
  /** Entity rows of the sample training set. */
  trainingRows: number;
  /** Entity rows of the churn model's training set. */
  modelRows: number;
  /** Hydrated prediction requests sent once the model serves (fewer if they take over 8 s). */
  predictRequests: number;
  /** Kept after the run; without it a temp dir is used and removed. */
  dataDir?: string;
  httpPort: number;
  grpcPort: number;
  /** Ends the traffic early (SIGINT); the summary is still built. */
  signal?: AbortSignal;
  logLevel?: string;
}

export interface DemoSummary {
  seed: number;
  users: number;
  targetRate: number;
  producers: number;
  durationMs: number;
  stoppedEarly: boolean;
  httpUrl: string;
  dataDir: string;
  events: PathTally;
  paths: Record<string, PathTally>;
  rejections: Rejection[];
  failures: { reason: string; count: number }[];
  /** Rows in the source's offline table after the traffic stopped (earlier runs in the data dir too). */
  offlineRows: number;
  onlineEntities: number;
  trainingSet: TrainingSet;
  model: ModelReport;
  predictions: PredictLoadReport;
  /** The shift after the prediction load and what the monitor found over the predictions after it. */
  drift: DriftStepReport;
  /** Null when no alert asking for retraining fired (e.g. a window too small to compare). */
  retrain: RetrainReport | null;
}

/** Runs the demo and returns its summary; the platform is stopped whatever happens. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  // First, so a missing xgboost fails the demo at once rather than after the traffic.
  await checkPythonXgboost();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'meridian-demo-'));
  const config = loadConfig({ overrides: demoConfig(options, dataDir) });
  note(`starting the platform on embedded stores in ${dataDir}`);
  const platform = await Platform.start(config, { logger: createLogger(config.logLevel) });
  try {
    await new MeridianClient({ url: platform.httpUrl }).apply(await loadDefinitions(CHURN_EXAMPLE));
    note(`applied ${CHURN_EXAMPLE} to ${platform.httpUrl}; sending traffic`);
    return await driveTraffic(platform, options, dataDir);
  } finally {
    note('stopping the platform');
    await platform.stop();
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Embedded stores only, loopback ports: the demo must not touch anything outside its data dir. */
function demoConfig(options: DemoOptions, dataDir: string): Record<string, unknown> {
  return {
    target: 'all',
    dataDir,
    // Quiet unless asked otherwise: log lines would break up the progress line.
    logLevel: options.logLevel ?? process.env.MERIDIAN_LOG_LEVEL ?? 'warn',
    http: { host: '127.0.0.1', port: options.httpPort },
    grpc: { host: '127.0.0.1', port: options.grpcPort },
    onlineStore: 'lmdb',
    stateStore: 'pglite',
    jobQueue: 'state',
    eventStream: 'memory',
    artifactStore: 'file',
    offlineStore: 'duckdb',
  };
}

async function driveTraffic(platform: Platform, options: DemoOptions, dataDir: string): Promise<DemoSummary> {
  const url = platform.httpUrl;
  const tally = new Tally();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.durationMs);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const progress = new ProgressReporter({
    tally,
    onlineEntities: () => countOnlineEntities(url, ONLINE_FEATURE, options.users),
    // Off a terminal a line every 5 s, but at least a few lines for a short run.
    ...(process.stderr.isTTY ? {} : { intervalMs: Math.min(5000, Math.max(1000, options.durationMs / 4)) }),
  });
  const startedAt = Date.now();
  progress.start();
  try {
    await Promise.all(producers(platform, options, tally, stop.signal));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    progress.stop();
  }
  const endedAt = Date.now();
  note('traffic stopped; reading back online entities and a point-in-time training set');
  const traffic = {
    seed: options.seed,
    users: options.users,
    targetRate: options.rate,
    producers: options.producers,
    durationMs: endedAt - startedAt,
    stoppedEarly: options.signal?.aborted === true,
    httpUrl: url,
    dataDir,
    events: tally.total(),
    paths: { ...tally.paths },
    rejections: tally.rejectionList(),
    failures: tally.failureList(),
    offlineRows: await countOfflineRows(platform),
    onlineEntities: await countOnlineEntities(url, ONLINE_FEATURE, options.users),
    trainingSet: await buildTrainingSet(url, SERVICE, entityRows(options, startedAt, endedAt)),
  };
  return { ...traffic, ...(await serveModel(platform, options, dataDir, startedAt, endedAt)) };
}

/**
 * Trains and deploys the churn model on the traffic's features, measures hydrated predictions, then
 * shifts the traffic and has the monitor compare the predictions after the shift with the training set.
 */
async function serveModel(
  platform: Platform,
  options: DemoOptions,
  dataDir: string,
  startedAt: number,
  endedAt: number,
): Promise<Pick<DemoSummary, 'model' | 'predictions' | 'drift' | 'retrain'>> {
  const url = platform.httpUrl;
  note(`training an XGBoost churn model on ${options.modelRows} point-in-time rows`);
  const entities = modelEntityRows(options.modelRows, options.users, options.seed, startedAt, endedAt);
  const model = await deployChurnModel({
    url,
    dataDir,
    featureService: SERVICE,
    entities,
    seed: options.seed,
  });
  note(`model "${MODEL_NAME}" version ${model.version} is in production; sending hydrated predictions`);
  const predictions = await runPredictLoad({
    url,
    model: MODEL_NAME,
    requests: options.predictRequests,
    maxMs: PREDICT_MAX_MS,
    concurrency: PREDICT_CONCURRENCY,
    usersPerRequest: USERS_PER_PREDICTION,
    users: options.users,
    seed: options.seed,
  });
  note('uploading the training set as the baseline; shifting the traffic and predicting every user again');
  const driftStarted = Date.now();
  const drift = await runDriftStep({
    url,
    model,
    source: SOURCE,
    users: options.users,
    seed: options.seed,
    entities,
    countLogged: (from, to) => countLogged(platform, from, to),
  });
  // Drift rules ask for retraining: when one fired, the monitor started the train pipeline.
  const retrains = drift.alerts.some((a) => RETRAIN_RULES.includes(a.rule));
  if (retrains) note('the drift alert started the train pipeline for the model; waiting for its decision');
  const retrain = retrains ? await waitForRetrain(url, MODEL_NAME, driftStarted) : null;
  return { model, predictions, drift, retrain };
}

/** The concurrent push producers, each with its own seeded stream and a share of the rate, and the gRPC file producer. */
function producers(
  platform: Platform,
  options: DemoOptions,
  tally: Tally,
  signal: AbortSignal,
): Promise<void>[] {
  const url = platform.httpUrl;
  const rate = options.rate / options.producers;
  // About ten requests a second per producer: batches, as a real client would send.
  const batchSize = Math.max(1, Math.min(1000, Math.round(rate / 10)));
  const pushers = Array.from({ length: options.producers }, (_, i) =>
    runPushProducer({
      url,
      source: SOURCE,
      generator: new ActivityGenerator({ users: options.users, seed: options.seed + i }),
      rate,
      batchSize,
      badEvery: 10,
      tally,
      signal,
    }),
  );
  // A file every 10 s (sooner in a short run, so it uploads at least once): a tenth of the push volume.
  const intervalMs = Math.min(FILE_INTERVAL_MS, Math.max(1000, options.durationMs / 2));
  const files = runFileProducer({
    grpcUrl: platform.grpcUrl,
    source: SOURCE,
    generator: new ActivityGenerator({ users: options.users, seed: options.seed + 500_009 }),
    rowsPerFile: Math.max(10, Math.round((options.rate * intervalMs) / 10_000)),
    intervalMs,
    tally,
    signal,
  });
  return [...pushers, files];
}

/** Users drawn with the traffic's skew, at times spread over the run (some before any event). */
function entityRows(options: DemoOptions, startedAt: number, endedAt: number): EntityRow[] {
  const generator = new ActivityGenerator({ users: options.users, seed: options.seed + 1_000_003 });
  const from = startedAt - 60_000;
  return Array.from({ length: options.trainingRows }, () => ({
    user_id: generator.userId(),
    event_timestamp: new Date(Math.floor(from + generator.next() * (endedAt - from))).toISOString(),
  }));
}

/** A step of the demo, on stderr beside the progress lines. */
function note(message: string): void {
  process.stderr.write(`meridian demo: ${message}\n`);
}

/** Rows of the churn model's prediction log in [from, to). */
async function countLogged(platform: Platform, from: Date, to: Date): Promise<number> {
  const offline = platform.stores.offline;
  if (!offline) return 0;
  const rows = await offline.query<{ n: bigint }>(
    `SELECT count(*) AS n FROM predictions WHERE model = '${MODEL_NAME}' AND time >= epoch_ms(${from.getTime()}) AND time < epoch_ms(${to.getTime()})`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function countOfflineRows(platform: Platform): Promise<number> {
  const offline = platform.stores.offline;
  if (!offline) return 0;
  const rows = await offline.query<{ n: bigint }>(`SELECT count(*) AS n FROM "${sourceTable(SOURCE)}"`);
  return Number(rows[0]?.n ?? 0);
}
