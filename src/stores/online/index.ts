/** Picks the online store implementation from its URL. */
import { join, resolve } from 'node:path';
import { MeridianError, redactUrl } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { openLmdbOnlineStore } from './lmdb.js';
import type { OnlineStore } from './port.js';
import { openRedisOnlineStore } from './redis.js';

export type {
  FeatureRead,
  FeatureValue,
  OnlineRead,
  OnlineRow,
  OnlineStore,
  WriteLatestResult,
} from './port.js';

const ACCEPTED =
  "'lmdb' (in <dataDir>/online), 'lmdb:/some/path', 'redis://host:port/db' or 'rediss://host:port/db'";

/** Opens the online store named by `url`: `lmdb`, `lmdb:<path>` (relative to the working directory), `redis://...` or `rediss://...`. */
export async function createOnlineStore(url: string, ctx: StoreContext): Promise<OnlineStore> {
  if (url === 'lmdb') return openLmdbOnlineStore(join(ctx.dataDir, 'online'), { logger: ctx.logger });
  if (url.startsWith('lmdb:') && url.length > 'lmdb:'.length && !url.startsWith('lmdb://')) {
    return openLmdbOnlineStore(resolve(url.slice('lmdb:'.length)), { logger: ctx.logger });
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    return openRedisOnlineStore(url, { logger: ctx.logger });
  }
  const shown = redactUrl(url);
  throw new MeridianError(
    'CONFIG_INVALID',
    `onlineStore: unsupported URL ${JSON.stringify(shown)}; use ${ACCEPTED}`,
    {
      field: 'onlineStore',
      hint: `use ${ACCEPTED}`,
    },
  );
}
