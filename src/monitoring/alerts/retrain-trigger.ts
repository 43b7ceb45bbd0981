/**
 * The retrain hook's two halves as the monitoring target wires them: the production models that
 * take a feature as input (read from the registry's table in the state store, which services share),
 * and the trigger, which starts the `train` pipeline of each model through the orchestrator's REST
 * API with the alert as a parameter and its firing time as the logical date, so one alert starts
 * one run per model however often it is delivered.
 */
import { MeridianError } from '../../core/errors.js';
import { Transport } from '../../sdk/transport.js';
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

interface RunSummary {
  runId: string;
  status: string;
  params: Record<string, unknown>;
}

const call = <T>(base: string, method: string, path: string, body?: unknown) =>
  new Transport(base, 30_000).call<T>(method, path, body);

/** The model's train run still pending or running, if any. */
async function activeRun(base: string, pipeline: string, model: string): Promise<RunSummary | undefined> {
  for (const status of ['PENDING', 'RUNNING']) {
    const { runs } = await call<{ runs: RunSummary[] }>(
      base,
      'GET',
      `/v1/runs?pipeline=${encodeURIComponent(pipeline)}&status=${status}&limit=1000`,
    );
    const found = runs.find((r) => r.params.model === model);
    if (found) return found;
  }
  return undefined;
}

/**
 * Starts `pipeline` for every model of the request at `apiUrl()` (resolved per call: known once the
 * server listens), unless the model already has a run pending or running: several alerts of one
 * window (a feature alert per drifted input, dataset drift) retrain a model once. Requests are
 * handled one at a time, so the second alert sees the run the first started.
 */
export function pipelineRetrainTrigger(apiUrl: () => string | undefined, pipeline = 'train'): TriggerRetrain {
  let queue: Promise<unknown> = Promise.resolve();
  const trigger = async ({ models, alert }: RetrainRequest) => {
    const base = apiUrl();
    if (!base)
      throw new MeridianError('UNAVAILABLE', 'the orchestrator URL is not known yet (server not listening)');
    for (const model of models) {
      if (await activeRun(base, pipeline, model)) continue;
      await call(base, 'POST', `/v1/pipelines/${encodeURIComponent(pipeline)}/runs`, {
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
      });
    }
  };
  return (request) => {
    const next = queue.then(() => trigger(request));
    queue = next.catch(() => undefined);
    return next;
  };
}
