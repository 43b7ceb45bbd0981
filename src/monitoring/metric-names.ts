/**
 * Names of the Prometheus series the monitor exports, in one place: the drift, quality and
 * performance jobs export them, the alert rules (in-process and `deploy/prometheus/rules`) watch them.
 */

/** Share of a model version's features that drifted in the last window, 0..1; labels model, version. */
export const DATASET_DRIFT_SHARE = 'meridian_dataset_drift_share';

/** The drift score of one feature in the last window; labels model, version, feature, method. */
export const FEATURE_DRIFT_SCORE = 'meridian_feature_drift_score';

/** 1 when the feature drifted in the last window, else 0; labels model, version, feature, method. */
export const FEATURE_DRIFTED = 'meridian_feature_drifted';

/**
 * How much worse the window's performance metric is than the training metric of the version, as a
 * share of the training value (0.1 = 10% worse, whichever direction is worse for that metric);
 * labels model, version, metric.
 */
export const PERFORMANCE_DROP = 'meridian_model_performance_drop';

/** The feature store exports these; their names live in core, which the feature store may import. */
export {
  FEATURE_FRESHNESS_SECONDS,
  FEATURE_FRESHNESS_SLO_RATIO,
  INGEST_VIOLATIONS_TOTAL,
} from '../core/metrics.js';

/** Serving exports these; their names live in core, which serving may import. */
export { INFERENCE_REQUEST_SECONDS, SERVING_ERROR_RATIO } from '../core/serving-metrics.js';

/** HTTP request latency histogram of the API; labels method, route, status. */
export const HTTP_REQUEST_SECONDS = 'meridian_http_request_duration_seconds';

/** Labelled predictions / all predictions of a model version in the last window, 0..1; labels model, version. */
export const MODEL_LABELLED_SHARE = 'meridian_model_labelled_share';
