/**
 * Feeds serving's recent error ratio per model version to the alert evaluator on a timer, for the
 * in-process MeridianServingErrorRate rule (Prometheus computes the same from the scraped gauge).
 * Serving is handed in as the one method it exposes, so monitoring never imports it.
 */
import type { Logger } from '../../core/logger.js';
import { SERVING_ERROR_RATIO } from '../metric-names.js';
import type { AlertEvaluator } from './evaluator.js';

export interface ErrorRatioSource {
  recentErrorRatios(): { model: string; version: string | number; ratio: number }[];
}

/** How often the ratios are sampled: the rule's for-duration is minutes, so this is fine-grained enough. */
export const ERROR_RATIO_SAMPLE_MS = 30_000;

/** Starts sampling; answers the stop function. */
export function sampleErrorRatios(
  source: ErrorRatioSource,
  evaluator: AlertEvaluator,
  logger: Logger,
  intervalMs = ERROR_RATIO_SAMPLE_MS,
): () => void {
  const timer = setInterval(() => {
    const time = Date.now();
    const samples = source.recentErrorRatios().map((r) => ({
      metric: SERVING_ERROR_RATIO,
      labels: { model: r.model, version: String(r.version) },
      value: r.ratio,
      time,
    }));
    evaluator.evaluate(samples).catch((err: unknown) => logger.warn({ err }, 'error ratio sampling failed'));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
