/**
 * State store tables of the orchestrator (versions 400-449; the scheduler has 450+). A run's key is
 * unique among its active runs (PENDING, RUNNING, COMPLETED) through a partial unique index, so two
 * concurrent triggers of one key insert one run. Steps carry their policies (queue, attempts, delay,
 * timeout) so any process can dispatch them without the definition. Log lines are numbered per run
 * through the run row's counter, so followers paging by `seq` never skip a line committed late.
 * A step's completion is one function call (401): under the run's lock, each of its statements
 * reads afresh (PL/pgSQL in READ COMMITTED), so it sees every sibling completed before it, in one
 * round trip instead of five.
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
  {
    version: 401,
    name: 'step completion in one call',
    sql: `
      CREATE FUNCTION pipeline_complete_step(p_run text, p_step text, p_job text, p_attempt integer,
        p_output jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
      DECLARE
        ready jsonb;
        run_completed boolean;
      BEGIN
        PERFORM 1 FROM pipeline_runs WHERE run_id = p_run FOR UPDATE;
        UPDATE pipeline_steps SET status = 'COMPLETED', output = p_output, error = NULL,
          finished_at = now(), heartbeat_at = NULL, updated_at = now()
        WHERE run_id = p_run AND name = p_step AND job_id = p_job AND attempts = p_attempt
          AND status = 'RUNNING';
        IF NOT FOUND THEN
          RETURN NULL;
        END IF;
        WITH taken AS (
          UPDATE pipeline_steps s SET queued_at = now(), updated_at = now()
          FROM pipeline_runs r
          -- Only the steps that need this one can have become ready by its completion.
          WHERE s.run_id = p_run AND r.run_id = s.run_id AND s.status = 'PENDING' AND s.queued_at IS NULL
            AND p_step = ANY (s.needs)
            AND NOT EXISTS (
              SELECT 1 FROM pipeline_steps n
              WHERE n.run_id = s.run_id AND n.name = ANY (s.needs) AND n.status <> 'COMPLETED')
          RETURNING s.run_id, r.pipeline, s.name, s.queue, s.max_attempts, s.retry_delay_ms, s.timeout_ms)
        SELECT COALESCE(jsonb_agg(to_jsonb(taken)), '[]'::jsonb) INTO ready FROM taken;
        UPDATE pipeline_runs SET status = 'COMPLETED', finished_at = now(), error = NULL
        WHERE run_id = p_run AND status <> 'FAILED'
          AND NOT EXISTS (SELECT 1 FROM pipeline_steps WHERE run_id = p_run AND status <> 'COMPLETED');
        run_completed := FOUND;
        RETURN jsonb_build_object('ready', ready, 'runCompleted', run_completed);
      END
      $fn$;`,
  },
];
