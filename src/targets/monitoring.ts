/**
 * The `monitoring` target: the ad-hoc drift report, model baselines (profiles of a version's
 * reference data, computed in DuckDB), and alerting (rules over the
 * monitor's samples, their lifecycle in the state store, webhook delivery).
 */
import { registerAlertRoutes } from '../api/routes/alerts.js';
import { registerBaselineRoutes } from '../api/routes/baselines.js';
import { registerDriftRoutes } from '../api/routes/drift.js';
import { MeridianError } from '../core/errors.js';
import { type Alerting, openAlerting } from '../monitoring/alerts/alerting.js';
import { BASELINE_MIGRATIONS } from '../monitoring/baseline/migrations.js';
import type { RunningTarget, TargetContext } from './target.js';

export interface MonitoringTarget extends RunningTarget {
  alerting: Alerting;
}

/** Starts the monitor's services and registers its APIs; on failure closes what it started. */
export async function startMonitoringTarget(ctx: TargetContext): Promise<MonitoringTarget> {
  const { config, stores, logger, metrics, http } = ctx;
  const { state, artifact } = stores;
  if (!state || !artifact) {
    throw new MeridianError('INTERNAL', 'the monitor needs the state and artifact stores of its target');
  }
  const log = logger.child({ service: 'monitoring' });
  // Monitoring's migrations share the block 300-399, applied in order: baselines (300) before alerts (350).
  await state.migrate(BASELINE_MIGRATIONS);
  const alerting = await openAlerting({
    state,
    registry: metrics,
    logger: log,
    config: config.monitoring.alerts,
  });
  try {
    registerDriftRoutes(http);
    registerAlertRoutes(http, { alerts: alerting.store });
    registerBaselineRoutes(http, { state, artifact, logger: log });
    return { alerting, close: () => alerting.close() };
  } catch (err) {
    await alerting.close().catch(() => undefined);
    throw err;
  }
}
