/**
 * Periodic samples for the in-process alert rules whose series no monitoring job produces: serving's
 * error ratio and the feature views' freshness (Prometheus computes the same from the scraped
 * gauges). Each source is a function, so monitoring never imports the service it samples.
 */
import type { Logger } from '../../core/logger.js';
import { SERVING_ERROR_RATIO } from '../metric-names.js';
import type { AlertEvaluator, MetricSample } from './evaluator.js';

/** Rules over these have for-durations of minutes: sampling every 30 s is fine-grained enough. */
export const SAMPLE_INTERVAL_MS = 30_000;

/** Feeds `collect()` to the evaluator every intervalMs; answers the stop function. */
export function startSampler(
  name: string,
  collect: () => Promise<MetricSample[]> | MetricSample[],
  evaluator: AlertEvaluator,
  logger: Logger,
  intervalMs = SAMPLE_INTERVAL_MS,
): () => void {
  const timer = setInterval(() => {
    Promise.resolve()
      .then(collect)
      .then((samples) => evaluator.evaluate(samples))
      .catch((err: unknown) => logger.warn({ err, sampler: name }, 'alert sampling failed'));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** What serving reports per model version over its recent window. */
export interface ErrorRatio {
  model: string;
  version: string | number;
  ratio: number;
}

/** Serving's error ratios as samples of meridian_serving_error_ratio. */
export function errorRatioSamples(ratios: readonly ErrorRatio[], now: number): MetricSample[] {
  return ratios.map((r) => ({
    metric: SERVING_ERROR_RATIO,
    labels: { model: r.model, version: String(r.version) },
    value: r.ratio,
    time: now,
  }));
}
