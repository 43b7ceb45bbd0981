/**
 * Online store on Redis, with a key layout ready for Redis Cluster:
 *
 *   mrd:ol:<view>:{<entityKey>}   one string per view and entity: the row text of row.ts,
 *                                 `[eventTime, 0, {feature: encoded}]`, with a PEXPIRE for a TTL
 *
 * The entity key is the hash tag, so every view of one entity lives in the same slot (one node
 * answers a multi-view read of an entity). In the view and entity parts `%`, `:`, `{` and `}` are
 * percent-escaped, which keeps the tag intact and makes `mrd:ol:<view>:{*` match exactly one view's
 * keys: that is how deleteView finds them with SCAN. Writes run one Lua script per row (compare the
 * event time, then SET with PX), all rows of a call in one pipeline. A read is one MGET of every
 * key (on a single node; under Cluster the keys of one call would have to be grouped by slot), and
 * unchanged rows are decoded once, through the same row cache as LMDB.
 */
import { Redis } from 'ioredis';
import { MeridianError, redactUrl, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { checkEntityKeys, checkFeatures, checkTtl, checkView, encodeRows, missing } from './codec.js';
import type { OnlineRead, OnlineRow, OnlineStore, WriteLatestOptions, WriteLatestResult } from './port.js';
import { featureReads, RowCache, rowText } from './row.js';

const KEY_PREFIX = 'mrd:ol:';
/** Decoded rows kept per handle; the cache starts over when full. */
const ROW_CACHE_LIMIT = 50_000;

/**
 * KEYS[1] row key; ARGV[1] event time, ARGV[2] TTL ms (0 = none), ARGV[3] row text. Returns 1 if
 * written. A key of another type (a row of an older layout) reads as absent and is replaced.
 */
const WRITE_LATEST_LUA = `
local current = redis.pcall('GET', KEYS[1])
if type(current) == 'string' then
  local stored = tonumber(string.match(current, '^%[([^,]+),'))
  if stored and stored > tonumber(ARGV[1]) then return 0 end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[3])
end
return 1
`;

interface ScriptedPipeline {
  meridianWriteLatest(key: string, eventTime: string, ttl: string, text: string): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export interface RedisOnlineStoreOptions {
  /** Bound on connecting, in ms. Default 3000. */
  connectTimeoutMs?: number;
  /** Where connection errors after the first connect are reported (ioredis keeps reconnecting). */
  logger?: Logger;
}

function escapePart(part: string): string {
  return /[%:{}]/.test(part)
    ? part.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : part;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Escapes only when needed; the common entity key passes through without a regex. */
function entityPart(entityKey: string): string {
  for (let i = 0; i < entityKey.length; i++) {
    const c = entityKey.charCodeAt(i);
    if (c === 37 || c === 58 || c === 123 || c === 125) return escapePart(entityKey);
  }
  return entityKey;
}

/** The Redis online store; open it with `openRedisOnlineStore`. */
export class RedisOnlineStore implements OnlineStore {
  readonly description: string;
  private readonly prefixes = new Map<string, string>();
  private readonly decoded = new RowCache(ROW_CACHE_LIMIT);
  private closed = false;

  constructor(
    private readonly redis: Redis,
    url: string,
  ) {
    this.description = redactUrl(url);
  }

  /** `mrd:ol:<view>:{`, validated and escaped once per view. */
  private prefix(view: string): string {
    const known = this.prefixes.get(view);
    if (known !== undefined) return known;
    checkView(view);
    const prefix = `${KEY_PREFIX}${escapePart(view)}:{`;
    if (this.prefixes.size < 10_000) this.prefixes.set(view, prefix);
    return prefix;
  }

  private unavailable(tried: string, err: unknown): MeridianError {
    if (err instanceof MeridianError) return err;
    return storeUnavailable('online', this.description, tried, err);
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed('online', this.description);
  }

  /** Stores each row unless a newer event time is already stored for its entity (equal overwrites). */
  async writeLatest(
    view: string,
    rows: readonly OnlineRow[],
    options?: WriteLatestOptions,
  ): Promise<WriteLatestResult> {
    this.assertOpen();
    const prefix = this.prefix(view);
    const ttl = String(checkTtl(options));
    const encoded = encodeRows(rows);
    if (encoded.length === 0) return { written: 0, stale: 0 };
    const pipeline = this.redis.pipeline() as unknown as ScriptedPipeline;
    for (const row of encoded) {
      const key = `${prefix}${entityPart(row.entityKey)}}`;
      pipeline.meridianWriteLatest(key, String(row.eventTime), ttl, rowText(row, 0));
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw this.unavailable('writing rows', err);
    }
    let written = 0;
    for (const [err, result] of replies ?? []) {
      if (err) throw this.unavailable('writing rows', err);
      if (result === 1) written++;
    }
    return { written, stale: encoded.length - written };
  }

  /** One MGET of every key: one round trip, one command. */
  async getMany(
    view: string,
    entityKeys: readonly string[],
    features: readonly string[],
  ): Promise<OnlineRead[]> {
    this.assertOpen();
    const prefix = this.prefix(view);
    checkEntityKeys(entityKeys);
    checkFeatures(features);
    const n = entityKeys.length;
    if (n === 0) return [];
    const keys = new Array<string>(n);
    for (let i = 0; i < n; i++) keys[i] = `${prefix}${entityPart(entityKeys[i]!)}}`;
    let texts: (string | null)[];
    try {
      texts = await this.redis.mget(keys);
    } catch (err) {
      throw this.unavailable('reading rows', err);
    }
    const out: OnlineRead[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const entityKey = entityKeys[i]!;
      const text = texts[i];
      if (typeof text !== 'string') {
        out[i] = missing(entityKey, features.length);
        continue;
      }
      const cached = this.decoded.row(keys[i]!, text, view, entityKey);
      out[i] = { entityKey, found: true, eventTime: cached.row[0], features: featureReads(cached, features) };
    }
    return out;
  }

  /** SCANs `mrd:ol:<view>:{*` (only this view's keys, see the layout above) and UNLINKs what it finds. */
  async deleteView(view: string): Promise<void> {
    this.assertOpen();
    const pattern = `${globEscape(this.prefix(view))}*`;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await this.redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      throw this.unavailable(`deleting view ${view}`, err);
    }
  }

  /** Answers when Redis answers PING. */
  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.redis.ping();
    } catch (err) {
      throw this.unavailable('PING', err);
    }
  }

  /** Sends QUIT (waiting for replies in flight) and stops reconnecting. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/** Connects to Redis at `url` (redis:// or rediss://); fails within the connect timeout with STORE_UNAVAILABLE. */
export async function openRedisOnlineStore(
  url: string,
  options: RedisOnlineStoreOptions = {},
): Promise<RedisOnlineStore> {
  const connectTimeout = options.connectTimeoutMs ?? 3000;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let lastError: unknown;
  let connected = false;
  redis.on('error', (err: unknown) => {
    lastError = err;
    if (connected)
      options.logger?.warn({ err, store: redactUrl(url) }, 'online store: Redis connection error');
  });
  redis.defineCommand('meridianWriteLatest', { numberOfKeys: 1, lua: WRITE_LATEST_LUA });
  const timer = setTimeout(() => redis.disconnect(), connectTimeout + 1000);
  try {
    await redis.connect();
    connected = true;
  } catch (err) {
    redis.disconnect();
    throw storeUnavailable('online', url, `connecting (timeout ${connectTimeout} ms)`, lastError ?? err);
  } finally {
    clearTimeout(timer);
  }
  return new RedisOnlineStore(redis, url);
}
