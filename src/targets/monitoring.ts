/**
 * The `monitoring` target: the ad-hoc drift report, model baselines (profiles of a version's
 * reference data, computed in DuckDB), and alerting (rules over the
 * monitor's samples, their lifecycle in the state store, webhook delivery), and windowed drift of
 * the prediction log where the offline store is open (hourly over production versions, and on demand).
 */
import { registerAlertRoutes } from '../api/routes/alerts.js';
import { registerBaselineRoutes } from '../api/routes/baselines.js';
import { registerDriftRoutes } from '../api/routes/drift.js';
import { registerDriftWindowRoutes } from '../api/routes/drift-window.js';
import { registerLabelRoutes } from '../api/routes/labels.js';
import { MeridianError } from '../core/errors.js';
import { type Alerting, openAlerting } from '../monitoring/alerts/alerting.js';
import { modelsUsingFeatureIn, pipelineRetrainTrigger } from '../monitoring/alerts/retrain-trigger.js';
import { type ErrorRatio, errorRatioSamples, startSampler } from '../monitoring/alerts/sampler.js';
import { BASELINE_MIGRATIONS } from '../monitoring/baseline/migrations.js';
import { WindowDriftJob } from '../monitoring/drift/window-job.js';
import { LabelConsumer } from '../monitoring/labels/consumer.js';
import { createLabelStore } from '../monitoring/labels/store.js';
import { freshnessSamples, viewFreshness } from '../monitoring/quality/view-freshness.js';
import type { RunningTarget, TargetContext } from './target.js';

export interface MonitoringTarget extends RunningTarget {
  alerting: Alerting;
  /** Window drift; only where the offline store is open (target `all`). */
  windowDrift?: WindowDriftJob;
}

/** Starts the monitor's services and registers its APIs; on failure closes what it started. */
export async function startMonitoringTarget(
  ctx: TargetContext,
  serving?: { latency: { recentP95Ms(): number | null; recentErrorRatios(): ErrorRatio[] } },
): Promise<MonitoringTarget> {
  const { config, stores, logger, metrics, http } = ctx;
  const { state, artifact, offline } = stores;
  if (!state || !artifact) {
    throw new MeridianError('INTERNAL', 'the monitor needs the state and artifact stores of its target');
  }
  const log = logger.child({ service: 'monitoring' });
  // Monitoring's migrations share the block 300-399, applied in order: baselines (300) before alerts (350).
  await state.migrate(BASELINE_MIGRATIONS);
  // Retraining goes through the orchestrator's API: this process's own once it listens, unless configured.
  let selfUrl: string | undefined;
  const alerting = await openAlerting({
    state,
    registry: metrics,
    logger: log,
    config: config.monitoring.alerts,
    triggerRetrain: pipelineRetrainTrigger(() => config.pipelines.apiUrl ?? selfUrl),
    modelsUsingFeature: modelsUsingFeatureIn(state),
  });
  // The prediction log is in the offline store, which only its owner (target all) opens.
  const windowDrift = offline
    ? new WindowDriftJob({
        offline,
        state,
        artifact,
        logger: log,
        registry: metrics,
        alerts: alerting.evaluator,
      })
    : undefined;
  let labelConsumer: LabelConsumer | undefined;
  try {
    registerDriftRoutes(http);
    registerDriftWindowRoutes(http, {
      ...(windowDrift ? { job: windowDrift } : {}),
      unavailableReason: `target ${config.target} opens no offline store`,
    });
    registerAlertRoutes(http, { alerts: alerting.store });
    registerBaselineRoutes(http, { state, artifact, logger: log });
    // Labels and performance (POST /v1/labels, GET .../performance) live in the offline store (target all).
    // The same label store takes labels over REST and from the `labels` topic (`meridian.labels`).
    if (offline) {
      const lookbackMs = config.monitoring.labelLookbackMs;
      const labels = createLabelStore({ offline, logger: log, lookbackMs });
      registerLabelRoutes(http, { offline, state, logger: log, labels, lookbackMs });
      if (stores.stream) labelConsumer = await LabelConsumer.start(stores.stream, labels, log);
    }
    const drift = config.monitoring.drift;
    const objective = config.monitoring.servingP95ObjectiveMs;
    const busy = () => {
      const p95 = serving?.latency.recentP95Ms() ?? null;
      return p95 !== null && p95 > objective ? `serving p95 ${p95} ms > ${objective} ms` : undefined;
    };
    if (drift.enabled) windowDrift?.start(drift.periodMs, { minRows: drift.minRows }, busy);
    // Series no monitoring job produces, for the in-process rules: serving's error ratio (where
    // serving runs in this process) and the views' freshness (from the state store).
    const { evaluator } = alerting;
    const samplers = [
      startSampler(
        'feature freshness',
        async () => freshnessSamples(await viewFreshness(state, Date.now()), Date.now()),
        evaluator,
        log,
      ),
      ...(serving
        ? [
            startSampler(
              'serving error ratio',
              () => errorRatioSamples(serving.latency.recentErrorRatios(), Date.now()),
              evaluator,
              log,
            ),
          ]
        : []),
    ];
    const close = async () => {
      for (const stop of samplers) stop();
      await labelConsumer?.close();
      await windowDrift?.stop();
      await alerting.close();
    };
    const onListening = async (httpUrl: string) => {
      selfUrl = httpUrl;
    };
    return { alerting, ...(windowDrift ? { windowDrift } : {}), onListening, close };
  } catch (err) {
    await labelConsumer?.close().catch(() => undefined);
    await alerting.close().catch(() => undefined);
    throw err;
  }
}
