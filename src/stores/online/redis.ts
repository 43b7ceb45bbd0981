/**
 * Online store on Redis, with a key layout ready for Redis Cluster:
 *
 *   mrd:ol:<view>:{<entityKey>}   one hash per view and entity
 *     ""          event time of the stored row (feature names are never empty, so this cannot clash)
 *     <feature>   one field per feature, the value encoded by codec.ts
 *
 * The entity key is the hash tag, so every view of one entity lives in the same slot (one node
 * answers a multi-view read of an entity). In the view and entity parts `%`, `:`, `{` and `}` are
 * percent-escaped, which keeps the tag intact and makes `mrd:ol:<view>:{*` match exactly one view's
 * keys: that is how deleteView finds them with SCAN. Writes run one Lua script per row (compare the
 * event time, replace the hash, PEXPIRE), all rows of a call in one pipeline.
 */
import { Redis } from 'ioredis';
import { MeridianError, redactUrl, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import {
  checkEntityKeys,
  checkFeatures,
  checkTtl,
  checkView,
  decodeValue,
  encodeRows,
  missing,
  NOT_FOUND,
} from './codec.js';
import type {
  FeatureRead,
  OnlineRead,
  OnlineRow,
  OnlineStore,
  WriteLatestOptions,
  WriteLatestResult,
} from './port.js';

const KEY_PREFIX = 'mrd:ol:';
const EVENT_TIME_FIELD = '';

/** KEYS[1] row key; ARGV[1] event time, ARGV[2] TTL ms (0 = none), then field/value pairs. Returns 1 if written. */
const WRITE_LATEST_LUA = `
local current = redis.call('HGET', KEYS[1], '')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '', ARGV[1])
for i = 3, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/** ioredis flattens array arguments (Command does `args.flat()`); its typings only list the spread form. */
interface FlatPipeline {
  hmget(key: string, fields: readonly string[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

interface ScriptedPipeline {
  meridianWriteLatest(args: string[]): unknown;
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

function readOf(entityKey: string, reply: (string | null)[], m: number): OnlineRead {
  const eventTime = reply[0];
  if (eventTime === null || eventTime === undefined) return missing(entityKey, m);
  const reads: FeatureRead[] = new Array(m);
  for (let j = 0; j < m; j++) {
    const encoded = reply[j + 1];
    reads[j] = typeof encoded === 'string' ? { status: 'PRESENT', value: decodeValue(encoded) } : NOT_FOUND;
  }
  return { entityKey, found: true, eventTime: Number(eventTime), features: reads };
}

/** The Redis online store; open it with `openRedisOnlineStore`. */
export class RedisOnlineStore implements OnlineStore {
  readonly description: string;
  private readonly prefixes = new Map<string, string>();
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
      const args = [`${prefix}${entityPart(row.entityKey)}}`, String(row.eventTime), ttl];
      for (const [name, value] of row.fields) args.push(name, value);
      pipeline.meridianWriteLatest(args);
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

  /** One pipeline of HMGET (event time + requested features) per key: one round trip. */
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
    const m = features.length;
    if (n === 0) return [];
    const fields = [EVENT_TIME_FIELD, ...features];
    const pipeline = this.redis.pipeline() as unknown as FlatPipeline;
    for (let i = 0; i < n; i++) pipeline.hmget(`${prefix}${entityPart(entityKeys[i]!)}}`, fields);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw this.unavailable('reading rows', err);
    }
    const out: OnlineRead[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const [err, reply] = replies![i]!;
      if (err) throw this.unavailable('reading rows', err);
      out[i] = readOf(entityKeys[i]!, reply as (string | null)[], m);
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
