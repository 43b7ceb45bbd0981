/**
 * State store tables of the model registry (versions 200-299 are the model server's). A model row
 * holds the last version number handed out, so concurrent pushes number their versions through one
 * row lock; at most one version of a model is in production, enforced by a partial unique index.
 */
import type { Migration } from '../stores/state/port.js';

/** Every model registry migration, in order; pass them to `StateStore.migrate`. */
export const MODEL_REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 200,
    name: 'model registry',
    sql: `
      CREATE TABLE models (
        name text PRIMARY KEY,
        last_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE model_versions (
        name text NOT NULL REFERENCES models (name),
        version integer NOT NULL,
        format text NOT NULL CHECK (format IN ('onnx', 'xgboost', 'lightgbm')),
        artifact_path text NOT NULL,
        sha256 text NOT NULL,
        size bigint NOT NULL,
        signature json NOT NULL,
        inputs json,
        feature_service text,
        metrics json,
        baseline text,
        stage text NOT NULL CHECK (stage IN ('staging', 'production', 'archived')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        stage_changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      );
      CREATE UNIQUE INDEX model_versions_one_production ON model_versions (name) WHERE stage = 'production';`,
  },
  {
    version: 201,
    name: 'model missing-value policy',
    sql: 'ALTER TABLE model_versions ADD COLUMN missing_policy json;',
  },
];
