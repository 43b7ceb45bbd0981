import { MeridianError, redactUrl } from '../../core/errors.js';
import { isPostgresUrl, isSqlSource, type StateStore } from '../state/index.js';
import { PostgresStateStore } from '../state/postgres.js';
import type { StoreContext } from '../store.js';
import { PgBossJobQueue, type PgBossQueueOptions } from './pg-boss.js';
import type { JobQueue } from './port.js';

export type { PgBossQueueOptions } from './pg-boss.js';
export type {
  FailedState,
  Job,
  JobHandler,
  JobInfo,
  JobQueue,
  JobState,
  SendOptions,
  WorkOptions,
} from './port.js';

const ACCEPTED = '`state` (pg-boss on the state store) or `postgres://user@host:port/db` (its own database)';

/**
 * Opens the job queue a URL names: `state` runs pg-boss on the given state store (PGlite or PostgreSQL),
 * `postgres://` on a connection of its own. `options` tune pg-boss maintenance (tests use short ones).
 */
export async function createJobQueue(
  url: string,
  ctx: StoreContext,
  state: StateStore,
  options: PgBossQueueOptions = {},
): Promise<JobQueue> {
  if (url === 'state') {
    if (!isSqlSource(state)) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `jobQueue "state" needs a built-in state store, not ${state.description}`,
        {
          field: 'jobQueue',
          hint: `use ${ACCEPTED}`,
        },
      );
    }
    return PgBossJobQueue.start(state, ctx.logger, false, options);
  }
  if (isPostgresUrl(url)) {
    const own = await PostgresStateStore.open(url, ctx, 'job queue');
    return PgBossJobQueue.start(own, ctx.logger, true, options);
  }
  const shown = typeof url === 'string' ? redactUrl(url) : String(url);
  throw new MeridianError(
    'CONFIG_INVALID',
    `jobQueue "${shown}": unknown kind of job queue; use ${ACCEPTED}`,
    {
      field: 'jobQueue',
      hint: `use ${ACCEPTED}`,
      accepted: ['state', 'postgres://...', 'postgresql://...'],
    },
  );
}
