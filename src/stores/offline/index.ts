import { join } from 'node:path';
import { MeridianError, redactUrl } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { openDuckDBOfflineStore } from './duckdb.js';
import type { OfflineStore } from './port.js';

const FORMS =
  '"duckdb" (offline.duckdb in the data directory), "duckdb:/path/to/file.duckdb" or "duckdb::memory:"';

/** Opens the offline store a URL names: `duckdb`, `duckdb:<file>` or `duckdb::memory:`. */
export async function createOfflineStore(url: string, ctx: StoreContext): Promise<OfflineStore> {
  return openDuckDBOfflineStore(offlinePath(url, ctx.dataDir), url, ctx.logger);
}

function offlinePath(url: unknown, dataDir: string): string {
  if (url === 'duckdb') return join(dataDir, 'offline.duckdb');
  if (url === 'duckdb::memory:') return ':memory:';
  if (typeof url === 'string' && url.startsWith('duckdb:')) {
    const path = url.slice('duckdb:'.length);
    // Any other ":name" is a DuckDB special database this store does not support, not a file.
    if (path !== '' && !path.startsWith(':')) return path;
  }
  const shown = typeof url === 'string' ? JSON.stringify(redactUrl(url)) : String(url);
  throw new MeridianError(
    'CONFIG_INVALID',
    `offlineStore: ${shown} is not an offline store URL; use ${FORMS}`,
    {
      field: 'offlineStore',
      hint: `use ${FORMS}`,
    },
  );
}
