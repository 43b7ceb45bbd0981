import { isAbsolute, join } from 'node:path';
import { MeridianError, redactUrl } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { PgliteStateStore } from './pglite.js';
import type { StateStore } from './port.js';
import { PostgresStateStore } from './postgres.js';

export type { MigrateResult, Migration, QueryResult, SqlExecutor, SqlParam, StateStore } from './port.js';

/**
 * What pg-boss's `db` option needs: its SQL with the driver's own result shape. Both state stores have
 * it (not part of the port), so the job queue can run on the state store's single PGlite connection.
 */
export interface SqlSource {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Whether a state store can carry pg-boss (both built-in ones can). */
export function isSqlSource(store: StateStore): store is StateStore & SqlSource {
  return typeof (store as Partial<SqlSource>).executeSql === 'function';
}

/** Whether url names a PostgreSQL server (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: unknown): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//.test(url);
}

const ACCEPTED = '`pglite` (in <dataDir>/state), `pglite:/absolute/path` or `postgres://user@host:port/db`';

/** Opens the state store a URL names: PGlite on disk by default, PostgreSQL when scaled out. */
export async function createStateStore(url: string, ctx: StoreContext): Promise<StateStore> {
  if (url === 'pglite') return PgliteStateStore.open(join(ctx.dataDir, 'state'), ctx);
  if (typeof url === 'string' && url.startsWith('pglite:')) {
    const path = url.slice('pglite:'.length);
    if (!isAbsolute(path)) throw invalidUrl(url, `"${path}" is not an absolute path`);
    return PgliteStateStore.open(path, ctx);
  }
  if (isPostgresUrl(url)) return PostgresStateStore.open(url, ctx);
  throw invalidUrl(url, 'unknown kind of state store');
}

function invalidUrl(url: unknown, problem: string): MeridianError {
  const shown = typeof url === 'string' ? redactUrl(url) : String(url);
  return new MeridianError('CONFIG_INVALID', `stateStore "${shown}": ${problem}; use ${ACCEPTED}`, {
    field: 'stateStore',
    hint: `use ${ACCEPTED}`,
    accepted: ['pglite', 'pglite:/absolute/path', 'postgres://...', 'postgresql://...'],
  });
}
