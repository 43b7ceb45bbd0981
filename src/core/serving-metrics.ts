/**
 * Series names serving exports and the monitor watches: they live in core because serving may not
 * import monitoring (src/monitoring/metric-names.ts re-exports them).
 */

/** Failed inference requests / all inference requests over the recent window; labels model, version. */
export const SERVING_ERROR_RATIO = 'meridian_serving_error_ratio';

/** Inference request latency histogram exported by serving; labels model, version, protocol. */
export const INFERENCE_REQUEST_SECONDS = 'meridian_inference_request_seconds';
