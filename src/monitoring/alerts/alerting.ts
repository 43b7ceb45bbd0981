/**
 * Alerting assembled from its configuration: the alert store, the webhook notifier, the optional
 * retrain hook and the evaluator sweeping on the configured interval. What the monitoring target opens.
 */

import { type AlertsConfig, alertsConfigSchema } from '../../core/alerts-config.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Registry } from '../../core/metrics.js';
import type { StateStore } from '../../stores/state/port.js';
import { AlertStore } from './alert-store.js';
import { AlertEvaluator } from './evaluator.js';
import { type ModelsUsingFeature, RetrainHook, type TriggerRetrain } from './retrain-hook.js';
import type { AlertRule } from './rule.js';
import { WebhookNotifier } from './webhook-notifier.js';

export interface AlertingOptions {
  state: StateStore;
  registry: Registry;
  logger: Logger;
  config?: Partial<AlertsConfig>;
  rules?: readonly AlertRule[];
  clock?: Clock;
  /** Both given: alerts whose rule says `retrain` start retraining of the affected models. */
  triggerRetrain?: TriggerRetrain;
  modelsUsingFeature?: ModelsUsingFeature;
  /**
   * Apply ALERT_MIGRATIONS (default true). Monitoring's migrations share the block 300-399, where a
   * lower version cannot be applied after a higher one: apply the lower ones (baselines, 300+) first.
   */
  migrate?: boolean;
}

export interface Alerting {
  store: AlertStore;
  evaluator: AlertEvaluator;
  notifier: WebhookNotifier;
  /** Waits until queued webhooks and started retrain triggers have ended. */
  idle(): Promise<void>;
  /** Stops the sweep and abandons deliveries still retrying. */
  close(): Promise<void>;
}

/** Opens the store (migrating it), resumes stored alerts and starts the periodic sweep. */
export async function openAlerting(options: AlertingOptions): Promise<Alerting> {
  const config = alertsConfigSchema.parse(options.config ?? {});
  const store =
    options.migrate === false ? AlertStore.onMigrated(options.state) : await AlertStore.open(options.state);
  const notifier = new WebhookNotifier({
    urls: config.webhooks,
    registry: options.registry,
    logger: options.logger,
    retry: config.retry,
    queueLimit: config.queueLimit,
    ...(config.externalUrl ? { externalUrl: config.externalUrl } : {}),
  });
  const retrain =
    options.triggerRetrain && options.modelsUsingFeature
      ? new RetrainHook({
          triggerRetrain: options.triggerRetrain,
          modelsUsingFeature: options.modelsUsingFeature,
          logger: options.logger,
        })
      : undefined;
  const evaluator = await AlertEvaluator.open({
    store,
    notifier,
    logger: options.logger,
    staleAfterMs: config.staleAfterMs,
    ...(retrain ? { retrain } : {}),
    ...(options.rules ? { rules: options.rules } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  evaluator.start(config.evaluationIntervalMs);
  return {
    store,
    evaluator,
    notifier,
    async idle() {
      await Promise.all([notifier.idle(), retrain?.idle()]);
    },
    async close() {
      evaluator.stop();
      await notifier.close();
      await retrain?.idle();
    },
  };
}
