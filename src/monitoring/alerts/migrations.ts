/**
 * State store tables of the alerts (versions 350-359 of monitoring's block 300-399). At most one
 * pending or firing alert per fingerprint, enforced by a partial unique index; resolved ones are history.
 */
import type { Migration } from '../../stores/state/port.js';

/** Every alert migration, in order; migrate them after monitoring's lower-numbered ones. */
export const ALERT_MIGRATIONS: readonly Migration[] = [
  {
    version: 350,
    name: 'monitoring alerts',
    sql: `
      CREATE TABLE monitoring_alerts (
        id text PRIMARY KEY,
        fingerprint text NOT NULL,
        rule text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
        labels json NOT NULL,
        annotations json NOT NULL,
        value double precision NOT NULL,
        active_at timestamptz NOT NULL,
        fired_at timestamptz,
        resolved_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX monitoring_alerts_one_active ON monitoring_alerts (fingerprint)
        WHERE state IN ('pending', 'firing');
      CREATE INDEX monitoring_alerts_by_state ON monitoring_alerts (state, active_at);`,
  },
];
