/**
 * The retraining hook: when an alert whose rule asks for it fires, the models it affects are handed
 * to the retrain trigger. The pipeline service implements the trigger; until then callers inject one.
 */
import type { Logger } from '../../core/logger.js';
import type { Alert } from './alert.js';

export interface RetrainRequest {
  /** Model names to retrain, sorted, without duplicates. */
  models: string[];
  /** The alert that asked for it. */
  alert: Alert;
}

/** Starts the retrain pipelines of the given models (the pipeline service's API). */
export type TriggerRetrain = (request: RetrainRequest) => Promise<void>;

/** Names of the models that take the feature as input. */
export type ModelsUsingFeature = (feature: string) => Promise<readonly string[]> | readonly string[];

export interface RetrainHookOptions {
  triggerRetrain: TriggerRetrain;
  modelsUsingFeature: ModelsUsingFeature;
  logger: Logger;
}

/**
 * The models an alert affects: every model using its `feature` label, plus its `model` label (for
 * alerts about a whole model, such as dataset drift or a performance drop).
 */
export async function affectedModels(
  alert: Alert,
  modelsUsingFeature: ModelsUsingFeature,
): Promise<string[]> {
  const models = new Set<string>();
  const { feature, model } = alert.labels;
  if (feature !== undefined) for (const m of await modelsUsingFeature(feature)) models.add(m);
  if (model !== undefined) models.add(model);
  return [...models].sort();
}

/** Calls the retrain trigger for fired alerts in the background, logging (never throwing) failures. */
export class RetrainHook {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: RetrainHookOptions) {}

  /** Starts the lookup and the trigger for alert without waiting for them. */
  fired(alert: Alert): void {
    const run = this.trigger(alert).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Resolves once every started trigger has ended. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async trigger(alert: Alert): Promise<void> {
    const log = { alertId: alert.id, rule: alert.rule, labels: alert.labels };
    try {
      const models = await affectedModels(alert, this.options.modelsUsingFeature);
      if (models.length === 0) {
        this.options.logger.warn(log, 'alert asks for retraining but no model uses its feature');
        return;
      }
      await this.options.triggerRetrain({ models, alert });
      this.options.logger.info({ ...log, models }, 'retraining triggered by alert');
    } catch (err) {
      this.options.logger.error({ ...log, err }, 'retrain trigger failed; retrain the models by hand');
    }
  }
}
