/**
 * The parts of the other services' REST answers the built-in pipelines read, declared here because
 * the orchestrator reaches those services through their APIs, never their code.
 */

/** `GET /v1/models` items. */
export interface ModelSummary {
  name: string;
  latestVersion: number;
  productionVersion?: number;
}

/** `GET /v1/models/{name}/versions/{version}`. */
export interface ModelVersion {
  name: string;
  version: number;
  stage: string;
  inputs?: string[];
  featureService?: string;
  metrics?: Record<string, unknown>;
  createdBy: string;
}

/** `GET /v1/models/{name}`. */
export interface ModelDescription {
  name: string;
  productionVersion?: number;
  versions: ModelVersion[];
}

/** One column of `POST /v1/models/{name}/versions/{version}/drift`. */
export interface ColumnDrift {
  method: string;
  score: number;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
  status: string;
}

/** `POST /v1/models/{name}/versions/{version}/drift`. */
export interface WindowDrift {
  status: 'insufficient_data' | 'compared';
  rows: number;
  datasetDrift: boolean | null;
  driftShare: number | null;
  columns: Record<string, ColumnDrift>;
  prediction: (ColumnDrift & { column: string }) | null;
}

/** `POST /v1/pipelines/{name}/runs`. */
export interface TriggerAnswer {
  runId: string;
  status: string;
  created: boolean;
}
