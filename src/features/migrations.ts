/**
 * State store tables of the feature registry (versions 100-199 are the feature store's). Definitions
 * are kept as `json`, not `jsonb`, because jsonb reorders keys and a view's feature order is its
 * column order.
 */
import type { Migration } from '../stores/state/port.js';

/** Every feature store migration, in order; pass them to `StateStore.migrate`. */
export const FEATURE_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'feature registry',
    sql: `
      CREATE TABLE feature_registry (
        kind text NOT NULL CHECK (kind IN ('entity', 'source', 'feature_view', 'feature_service')),
        name text NOT NULL,
        definition json NOT NULL,
        transform_version integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, name),
        CHECK ((kind = 'feature_view') = (transform_version IS NOT NULL))
      );
      CREATE TABLE feature_view_versions (
        view text NOT NULL,
        version integer NOT NULL,
        definition json NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (view, version)
      );`,
  },
  {
    version: 101,
    name: 'ingest violations and view freshness',
    // One row per (source, field, code, minute), so a flood of bad events is one counted row; the
    // minute index serves the monitor's window reads. Freshness is one row per view, upserted.
    sql: `
      CREATE TABLE feature_ingest_violations (
        source text NOT NULL,
        field text NOT NULL,
        code text NOT NULL,
        minute timestamptz NOT NULL,
        count bigint NOT NULL,
        sample text NOT NULL,
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        PRIMARY KEY (source, field, code, minute)
      );
      CREATE INDEX feature_ingest_violations_minute ON feature_ingest_violations (minute);
      CREATE TABLE feature_view_freshness (
        view text PRIMARY KEY,
        last_write_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
];
