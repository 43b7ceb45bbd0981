/**
 * The statement behind JobQueue.fail(): pg-boss's own failJobsById (so retry, backoff and dead
 * letters behave exactly as when a handler throws), narrowed to a job still active on one attempt.
 * pg-boss's version fails any unfinished job, so a second caller racing the first would fail the
 * retry another worker already took.
 */
import { createRequire } from 'node:module';

const plans = createRequire(import.meta.url)('pg-boss/src/plans.js') as {
  failJobsById(schema: string): string;
};

const ANY_UNFINISHED = "AND state < 'completed'";
const COUNT = 'SELECT COUNT(*) FROM results';

/**
 * `$1` queue, `$2` ids (uuid[]), `$3` output (jsonb), `$4` the retry count the job must be active on;
 * answers the failed job's new state (`retry` or `failed`), no row when it was not active.
 */
export function failActiveJobSql(schema: string): string {
  const sql = plans.failJobsById(schema);
  if (!sql.includes(ANY_UNFINISHED) || !sql.includes(COUNT)) {
    throw new Error(
      'pg-boss failJobsById changed shape; JobQueue.fail needs updating for this pg-boss version',
    );
  }
  return sql
    .replace(ANY_UNFINISHED, "AND state = 'active' AND retry_count = $4::integer")
    .replace(COUNT, 'SELECT state::text AS state FROM results');
}
