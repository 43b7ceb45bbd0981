/**
 * The retrain hook's two halves as the monitoring target wires them: the production models that
 * take a feature as input (read from the registry's table in the state store, which services share),
 * and the trigger, which starts the `train` pipeline of each model through the orchestrator's REST
 * API with the alert as a parameter and its firing time as the logical date, so one alert starts
 * one run per model however often it is delivered.
 */
import { MeridianError } from '../../core/errors.js';
import type { StateStore } from '../../stores/state/port.js';
import type { ModelsUsingFeature, RetrainRequest, TriggerRetrain } from './retrain-hook.js';

/** Production models whose inputs name the feature. */
export function modelsUsingFeatureIn(state: StateStore): ModelsUsingFeature {
  return async (feature) => {
    const { rows } = await state.query<{ name: string }>(
      `SELECT DISTINCT name FROM model_versions WHERE stage = 'production' AND inputs IS NOT NULL AND inputs::jsonb ? $1`,
      [feature],
    );
    return rows.map((r) => r.name).sort();
  };
}

/** Starts `pipeline` for every model of the request at `apiUrl()` (resolved per call: known once serving). */
export function pipelineRetrainTrigger(apiUrl: () => string | undefined, pipeline = 'train'): TriggerRetrain {
  return async ({ models, alert }: RetrainRequest) => {
    const base = apiUrl();
    if (!base)
      throw new MeridianError('UNAVAILABLE', 'the orchestrator URL is not known yet (server not listening)');
    for (const model of models) {
      const response = await fetch(`${base}/v1/pipelines/${encodeURIComponent(pipeline)}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          params: {
            model,
            reason: `alert ${alert.rule}: ${alert.annotations.summary ?? ''}`.trim(),
            alert: {
              id: alert.id,
              rule: alert.rule,
              labels: alert.labels,
              value: alert.value,
              firedAt: alert.firedAt,
            },
          },
          logicalDate: new Date(alert.firedAt ?? alert.activeAt).toISOString(),
        }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!response.ok) {
        const text = await response.text();
        throw new MeridianError(
          'UNAVAILABLE',
          `starting ${pipeline} for ${model} answered ${response.status}: ${text.slice(0, 300)}`,
        );
      }
      await response.body?.cancel();
    }
  };
}
