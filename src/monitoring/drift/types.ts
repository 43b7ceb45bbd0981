/**
 * The vocabulary of drift detection, shared by the statistics, the ad-hoc `POST /v1/drift` report,
 * the windowed jobs and the alerts. The result shapes are the REST contract of `POST /v1/drift`
 * (clients and acceptance tests depend on them): keep field names exactly.
 */

export type ColumnType = 'numerical' | 'categorical';

/** Statistical tests (answer a p-value) and distances (answer no p-value). */
export const DRIFT_METHODS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** Tests drift when p < threshold; distances drift when score >= threshold. */
export const TEST_METHODS: ReadonlySet<DriftMethod> = new Set(['ks', 'chisquare', 'z']);

export type DriftStatus = 'ok' | 'warning' | 'drift';

/** The outcome of one statistic on one column (before the drift decision). */
export interface StatisticResult {
  /** The test statistic for tests (KS D, chi-square statistic, z), the distance for distances. */
  score: number;
  /** Tests only; null for distances. */
  pValue: number | null;
}

/** One column of a drift report, exactly as `POST /v1/drift` answers it. */
export interface ColumnDrift {
  type: ColumnType;
  method: DriftMethod;
  score: number;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
  status: DriftStatus;
}

/** A drift report over columns, exactly as `POST /v1/drift` answers it. */
export interface DriftReport {
  datasetDrift: boolean;
  /** Drifted columns / compared columns. */
  driftShare: number;
  drifted: number;
  columns: Record<string, ColumnDrift>;
}
