/**
 * The rules the monitor starts with. The same conditions are in deploy/prometheus/rules/meridian.yml
 * for a Prometheus that scrapes the exported gauges; keep the two in step.
 */
import {
  DATASET_DRIFT_SHARE,
  FEATURE_DRIFTED,
  FEATURE_FRESHNESS_SLO_RATIO,
  PERFORMANCE_DROP,
  SERVING_ERROR_RATIO,
} from '../metric-names.js';
import type { AlertRule } from './rule.js';

const MINUTE = 60_000;

export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  {
    name: 'MeridianDatasetDrift',
    metric: DATASET_DRIFT_SHARE,
    condition: '>=',
    threshold: 0.5,
    // Drift comes from windowed jobs (hourly by default): one drifted window is already an hour of evidence.
    forMs: 0,
    severity: 'warning',
    summary: 'At least half of the features of the model drifted',
    retrain: true,
  },
  {
    name: 'MeridianFeatureDrift',
    // Drift samples are produced per model and per feature the model takes as input.
    metric: FEATURE_DRIFTED,
    condition: '>=',
    threshold: 1,
    forMs: 0,
    severity: 'warning',
    summary: 'A feature the model depends on drifted',
    retrain: true,
  },
  {
    name: 'MeridianPerformanceDrop',
    metric: PERFORMANCE_DROP,
    condition: '>=',
    threshold: 0.1,
    forMs: 0,
    severity: 'critical',
    summary: 'Model performance is at least 10% worse than its training metric',
    retrain: true,
  },
  {
    name: 'MeridianFeatureFreshnessSLO',
    metric: FEATURE_FRESHNESS_SLO_RATIO,
    condition: '>',
    threshold: 1,
    forMs: 5 * MINUTE,
    severity: 'warning',
    summary: 'A feature view is older than its freshness objective',
  },
  {
    name: 'MeridianServingErrorRate',
    metric: SERVING_ERROR_RATIO,
    condition: '>',
    threshold: 0.05,
    forMs: 5 * MINUTE,
    severity: 'critical',
    summary: 'More than 5% of inference requests fail',
  },
];
