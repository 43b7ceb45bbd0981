/**
 * State store tables of the orchestrator (versions 400-449; the scheduler has 450+). A run's key is
 * unique among its active runs (PENDING, RUNNING, COMPLETED) through a partial unique index, so two
 * concurrent triggers of one key insert one run. Steps carry their policies (queue, attempts, delay,
 * timeout) so any process can dispatch them without the definition. Log lines are numbered per run
 * through the run row's counter, so followers paging by `seq` never skip a line committed late.
 */
import type { Migration } from '../stores/state/port.js';

/** Every orchestrator migration, in order; pass them to `StateStore.migrate`. */
export const PIPELINE_MIGRATIONS: readonly Migration[] = [
  {
    version: 400,
    name: 'pipeline runs, steps and logs',
    sql: `
      CREATE TABLE pipeline_runs (
        run_id text PRIMARY KEY,
        pipeline text NOT NULL,
        params jsonb NOT NULL,
        logical_date timestamptz NOT NULL,
        key text NOT NULL,
        key_active boolean NOT NULL,
        trigger jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')),
        error text,
        log_seq bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      );
      CREATE UNIQUE INDEX pipeline_runs_active_key ON pipeline_runs (key) WHERE key_active;
      CREATE INDEX pipeline_runs_created ON pipeline_runs (created_at DESC, run_id DESC);
      CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (pipeline, created_at DESC);
      CREATE TABLE pipeline_steps (
        run_id text NOT NULL REFERENCES pipeline_runs (run_id) ON DELETE CASCADE,
        name text NOT NULL,
        position integer NOT NULL,
        needs text[] NOT NULL,
        queue text NOT NULL,
        max_attempts integer NOT NULL,
        retry_delay_ms integer NOT NULL,
        timeout_ms bigint NOT NULL,
        status text NOT NULL
          CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'UPSTREAM_FAILED')),
        attempts integer NOT NULL DEFAULT 0,
        error text,
        output jsonb,
        job_id text,
        queued_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        heartbeat_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, name)
      );
      CREATE INDEX pipeline_steps_running ON pipeline_steps (heartbeat_at) WHERE status = 'RUNNING';
      CREATE INDEX pipeline_steps_waiting ON pipeline_steps (updated_at) WHERE status = 'PENDING';
      CREATE TABLE pipeline_logs (
        run_id text NOT NULL REFERENCES pipeline_runs (run_id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        step text NOT NULL,
        attempt integer NOT NULL,
        time timestamptz NOT NULL,
        stream text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'log')),
        line text NOT NULL,
        PRIMARY KEY (run_id, seq)
      );`,
  },
];
