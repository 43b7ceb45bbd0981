/**
 * State store tables of monitoring (versions 300-399 are the monitor's). A baseline row belongs to a
 * model version of the registry's `model_versions`; there is no foreign key, so monitoring's schema
 * does not depend on the order in which the services' migrations are applied.
 */
import type { Migration } from '../../stores/state/port.js';

/** Every baseline migration, in order; pass them to `StateStore.migrate` after the model registry's. */
export const BASELINE_MIGRATIONS: readonly Migration[] = [
  {
    version: 300,
    name: 'model baselines',
    sql: `
      CREATE TABLE model_baselines (
        model text NOT NULL,
        version integer NOT NULL,
        profile json NOT NULL,
        sample_artifact text NOT NULL,
        sample_sha256 text NOT NULL,
        rows bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, version)
      );`,
  },
];
