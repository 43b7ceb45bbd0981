/**
 * Windowed drift: a time window of a model version's prediction log compared with the version's
 * baseline, per feature and for the prediction output, set-based in the offline store's DuckDB
 * (./window-extract.ts) and decided as the in-memory report decides (./window-statistic.ts). A
 * window with fewer rows than `minRows` is `insufficient_data`, neither drift nor no drift. Each run
 * also measures the version's performance over the window's labelled predictions against its
 * training metrics (../performance/window-performance.ts). Every outcome is stored, exported as
 * gauges and handed to the alert evaluator (./window-results.ts, ../performance/window-results.ts).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from '../../core/clock.js';
import { DEFAULT_MIN_WINDOW_ROWS, DEFAULT_WINDOW_MS } from '../../core/drift-config.js';
import type { Logger } from '../../core/logger.js';
import type { ArtifactStore } from '../../stores/artifact/port.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { StateStore } from '../../stores/state/port.js';
import type { MetricSample } from '../alerts/evaluator.js';
import type { BaselineProfile } from '../baseline/profile.js';
import { checkModel, checkModelVersion, loadBaseline } from '../baseline/store.js';
import { windowPerformanceOf } from '../performance/window-performance.js';
import { PerformanceGauges, performanceSamples, storePerformance } from '../performance/window-results.js';
import { windowViolations, withIngestViolations } from '../quality/ingest-violations.js';
import { windowQuality } from '../quality/window-quality.js';
import { DEFAULT_DATASET_DRIFT_SHARE, isDatasetDrift } from './defaults.js';
import type { DriftMethod } from './types.js';
import { compareWindow } from './window-compare.js';
import { countWindowRows, extractWindow, type WindowSpec } from './window-extract.js';
import { base, insufficient, type WindowDrift, type WindowDriftResult, windowSpec } from './window-report.js';
import { DriftGauges, outcomeSamples, storeFailure, storeOutcome, windowOutcome } from './window-results.js';

export interface WindowDriftDeps {
  offline: OfflineStore;
  state: StateStore;
  artifact: ArtifactStore;
  logger: Logger;
  registry?: Registry;
  /** Receives the outcome's samples (the alert evaluator). */
  alerts?: { evaluate(samples: readonly MetricSample[]): Promise<unknown> };
  clock?: Clock;
  /** Where the baseline's sample is downloaded (default the OS temp directory). */
  tmpDir?: string;
}

export interface WindowDriftOptions {
  minRows?: number;
  methods?: Readonly<Record<string, DriftMethod>>;
  thresholds?: Readonly<Record<string, number>>;
  datasetDriftShare?: number;
  warningFactor?: number;
  /** Fewer labelled predictions than this is `insufficient_labels` (default 30). */
  minLabels?: number;
}

/** The window drift job over the offline, state and artifact stores. */
export class WindowDriftJob {
  private readonly clock: Clock;
  private readonly gauges: DriftGauges | undefined;
  private readonly performanceGauges: PerformanceGauges | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: WindowDriftDeps) {
    this.clock = deps.clock ?? systemClock;
    this.gauges = deps.registry ? new DriftGauges(deps.registry) : undefined;
    this.performanceGauges = deps.registry ? new PerformanceGauges(deps.registry) : undefined;
  }

  /** The window [now - lengthMs, now), the last hour by default. */
  lastHour(lengthMs = DEFAULT_WINDOW_MS): { from: Date; to: Date } {
    const to = this.clock.now();
    return { from: new Date(to - lengthMs), to: new Date(to) };
  }

  /** Compares the window of one version with its baseline and measures its performance; stores and exports both. */
  async run(
    model: string,
    version: number | string,
    window: { from: Date; to: Date },
    options: WindowDriftOptions = {},
  ): Promise<WindowDriftResult> {
    const name = checkModel(model);
    const v = checkModelVersion(version);
    const profile = await loadBaseline(this.deps.state, name, v);
    const minRows = options.minRows ?? DEFAULT_MIN_WINDOW_ROWS;
    const spec = windowSpec(profile, window);
    const rows = await countWindowRows(this.deps.offline, spec);
    const drift =
      rows < minRows
        ? insufficient(spec, rows, minRows)
        : await this.compare(spec, profile, rows, minRows, options);
    const performance = await windowPerformanceOf(this.deps, name, v, window, options.minLabels);
    const result = { ...drift, performance };
    await this.publish(result, window);
    return result;
  }

  /**
   * Runs every production version with a baseline over the last hour. A version that fails is
   * retried (`attempts` in all, default 2); a version that still fails is logged and stored in
   * `drift_results` as status `failed` with its error, and the others still run.
   */
  async runProduction(
    options: WindowDriftOptions = {},
    attempts = 2,
    windowMs = DEFAULT_WINDOW_MS,
  ): Promise<WindowDriftResult[]> {
    const found = await this.deps.state.query<{ model: string; version: number }>(
      `SELECT b.model, b.version FROM model_baselines b JOIN model_versions v
       ON v.name = b.model AND v.version = b.version WHERE v.stage = 'production' ORDER BY 1, 2`,
    );
    const results: WindowDriftResult[] = [];
    const window = this.lastHour(windowMs);
    for (const { model, version } of found.rows) {
      const result = await this.attempt(model, Number(version), window, options, attempts);
      if (result) results.push(result);
    }
    return results;
  }

  private async attempt(
    model: string,
    version: number,
    window: { from: Date; to: Date },
    options: WindowDriftOptions,
    attempts: number,
  ): Promise<WindowDriftResult | undefined> {
    let failure: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        return await this.run(model, version, window, options);
      } catch (err) {
        failure = err;
        this.deps.logger.warn({ err, model, version, attempt: i + 1 }, 'window drift failed');
      }
    }
    const error = failure instanceof Error ? failure.message : String(failure);
    this.deps.logger.error({ err: failure, model, version, attempts }, 'window drift gave up');
    await storeFailure(this.deps.offline, { model, version, ...window, error }, this.clock.now()).catch(
      (err: unknown) => this.deps.logger.error({ err }, 'storing the window drift failure failed'),
    );
    return undefined;
  }

  /**
   * Runs `runProduction` over the last period every periodMs (default hourly); one run at a time.
   * Monitoring is the lowest-priority work: while `busy()` says serving is over its objective, a
   * run waits, looking again every tenth of the period, and is skipped once a whole period passed.
   */
  start(
    periodMs = DEFAULT_WINDOW_MS,
    options: WindowDriftOptions = {},
    busy?: () => string | undefined,
  ): void {
    this.stop();
    this.timer = setInterval(() => {
      this.running = this.running
        .then(async () => {
          if (busy && !(await this.waitUntilIdle(busy, periodMs))) return;
          await this.runProduction(options, 2, periodMs);
        })
        .catch(() => undefined);
    }, periodMs);
    this.timer.unref();
  }

  /** Whether serving became idle enough within `periodMs`; logs why a run waits or is skipped. */
  private async waitUntilIdle(busy: () => string | undefined, periodMs: number): Promise<boolean> {
    const deadline = this.clock.now() + periodMs;
    for (let reason = busy(); reason !== undefined; reason = busy()) {
      if (this.clock.now() >= deadline || !this.timer) {
        this.deps.logger.warn(
          { reason },
          'scheduled window drift skipped: serving stayed over its objective',
        );
        return false;
      }
      this.deps.logger.info({ reason }, 'scheduled window drift waits: serving is over its objective');
      await new Promise((resolve) => setTimeout(resolve, Math.max(1000, periodMs / 10)).unref());
    }
    return true;
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async compare(
    spec: WindowSpec,
    profile: BaselineProfile,
    rows: number,
    minRows: number,
    options: WindowDriftOptions,
  ): Promise<WindowDrift> {
    const extracted = await extractWindow(this.deps.offline, spec, rows);
    const workDir = await mkdtemp(join(this.deps.tmpDir ?? tmpdir(), 'meridian-drift-')).catch(
      async (err) => {
        await extracted.drop().catch(() => undefined);
        throw err;
      },
    );
    try {
      const samplePath = join(workDir, 'sample.parquet');
      const sample = async () => {
        await pipeline(await this.deps.artifact.get(profile.sample.path), createWriteStream(samplePath));
        return samplePath;
      };
      const compared = await compareWindow(this.deps.offline, extracted, profile, sample, options);
      const quality = withIngestViolations(
        await windowQuality(this.deps.offline, extracted.table, profile, rows),
        await windowViolations(this.deps.state, spec, rows),
      );
      const features = Object.entries(compared.columns).filter(([c]) => c !== profile.prediction);
      const drifted = features.filter(([, d]) => d.drifted).length;
      const driftShare = features.length === 0 ? 0 : drifted / features.length;
      const predicted = profile.prediction ? compared.columns[profile.prediction] : undefined;
      return {
        ...base(spec, rows, minRows),
        status: 'compared',
        datasetDrift: isDatasetDrift(driftShare, options.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE),
        driftShare,
        drifted,
        columns: Object.fromEntries(features),
        prediction: predicted && profile.prediction ? { column: profile.prediction, ...predicted } : null,
        nulls: compared.nulls,
        skipped: compared.skipped,
        quality,
      };
    } finally {
      await extracted.drop().catch(() => undefined);
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async publish(result: WindowDriftResult, window: { from: Date; to: Date }): Promise<void> {
    const computedAt = this.clock.now();
    const outcome = windowOutcome(result, window, computedAt);
    const performance = { ...outcome, performance: result.performance };
    await storeOutcome(this.deps.offline, outcome);
    await storePerformance(this.deps.offline, performance);
    this.gauges?.set(outcome);
    this.performanceGauges?.set(performance);
    await this.deps.alerts?.evaluate([...outcomeSamples(outcome), ...performanceSamples(performance)]);
  }
}
