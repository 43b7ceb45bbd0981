/**
 * Embedded online store on LMDB. One root database (no named sub-databases), one entry per view and
 * entity: key `view NUL entityKey`, value the JSON text `[eventTime, expiresAt, {feature: encoded}]`
 * (encoded by codec.ts; expiresAt 0 = never), and the LMDB entry version is the event time.
 *
 * Compare-and-set: a row is put with `ifVersion` = the version read just before, which LMDB checks
 * inside its write transaction (across every instance and process on the same file). When another
 * writer got there first the put fails and the row is read and decided again, so an older event
 * never replaces a newer one. Expired rows read as not found; they are removed lazily after a read
 * meets them and by a periodic sweep, each time re-checked inside a synchronous write transaction.
 */
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import { invalidArgument, MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { checkEntityKeys, checkFeatures, checkTtl, checkView, encodeRows, missing } from './codec.js';
import type { OnlineRead, OnlineRow, OnlineStore, WriteLatestOptions, WriteLatestResult } from './port.js';
import { featureReads, isExpired, RowCache, rowText } from './row.js';

/** Decoded rows kept per handle; the cache starts over when full. */
const ROW_CACHE_LIMIT = 50_000;

export interface LmdbOnlineStoreOptions {
  /** How often the background sweep removes expired rows; 0 turns it off. Default one minute. */
  purgeIntervalMs?: number;
  /** Where a failed background sweep is reported. */
  logger?: Logger;
}

const SEPARATOR = '\u0000';
/** A string this long (UTF-16 units) can exceed LMDB's key size once UTF-8 encoded; check bytes only then. */
const LONG_KEY_UNITS = 600;
const MAX_CAS_ATTEMPTS = 100;

/** Commits made through any LMDB online store in this process; readers compare it with their snapshot's. */
let processCommits = 0;
const SWEEP_CHUNK = 2000;

/** The LMDB online store; open it with `openLmdbOnlineStore`. */
export class LmdbOnlineStore implements OnlineStore {
  readonly description: string;
  private readonly db: RootDatabase<string, string>;
  private readonly maxKeyBytes: number;
  private readonly prefixes = new Map<string, string>();
  private readonly expiredSeen = new Set<string>();
  private readonly decoded = new RowCache(ROW_CACHE_LIMIT);
  private sweepScheduled = false;
  private sweeping = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** processCommits as of this handle's read snapshot. */
  private seenCommits = -1;

  constructor(path: string, options: LmdbOnlineStoreOptions = {}) {
    this.description = `lmdb:${path}`;
    mkdirSync(path, { recursive: true });
    this.db = open<string, string>({ path, encoding: 'string', useVersions: true });
    this.maxKeyBytes = (this.db as unknown as { maxKeySize: number }).maxKeySize;
    const every = options.purgeIntervalMs ?? 60_000;
    if (every > 0) {
      const sweep = () =>
        this.purgeExpired().catch((err: unknown) =>
          options.logger?.warn(
            { err, store: this.description },
            'online store: sweeping expired rows failed',
          ),
        );
      this.timer = setInterval(sweep, every);
      this.timer.unref();
    }
  }

  /** Key prefix of a view, validated once and cached: hot reads only concatenate the entity key. */
  private prefix(view: string): string {
    const known = this.prefixes.get(view);
    if (known !== undefined) return known;
    checkView(view);
    const prefix = view + SEPARATOR;
    if (this.prefixes.size < 10_000) this.prefixes.set(view, prefix);
    return prefix;
  }

  private tooLong(key: string): boolean {
    return key.length > LONG_KEY_UNITS && Buffer.byteLength(key) > this.maxKeyBytes;
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
    const ttl = checkTtl(options);
    const encoded = encodeRows(rows);
    const keys = encoded.map((row, i) => {
      const key = prefix + row.entityKey;
      if (this.tooLong(key)) {
        throw invalidArgument(
          `rows[${i}].entityKey`,
          `view and entity key exceed ${this.maxKeyBytes} UTF-8 bytes`,
        );
      }
      return key;
    });
    const expiresAt = ttl === 0 ? 0 : Date.now() + ttl;
    const texts = encoded.map((row) => rowText(row, expiresAt));
    let pending = encoded.map((_, i) => i);
    let written = 0;
    let stale = 0;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_CAS_ATTEMPTS) {
        throw new MeridianError(
          'CONFLICT',
          `online store: rows of view ${view} kept changing under concurrent writers`,
          {
            hint: 'retry the write',
          },
        );
      }
      if (attempt > 1) this.db.resetReadTxn();
      const now = Date.now();
      const tried: number[] = [];
      const puts: Promise<boolean>[] = [];
      for (const i of pending) {
        const entry = this.db.getEntry(keys[i]!);
        const eventTime = encoded[i]!.eventTime;
        if (entry && entry.version! > eventTime && !isExpired(entry.value, now)) {
          stale++;
          continue;
        }
        tried.push(i);
        puts.push(
          this.db.put(keys[i]!, texts[i]!, eventTime, entry ? entry.version! : (null as unknown as number)),
        );
      }
      const results = await Promise.all(puts);
      pending = tried.filter((_, k) => !results[k]);
      written += tried.length - pending.length;
    }
    if (written > 0) processCommits++;
    return { written, stale };
  }

  /** Reads N keys x M features from the current snapshot, without a round trip. */
  async getMany(
    view: string,
    entityKeys: readonly string[],
    features: readonly string[],
  ): Promise<OnlineRead[]> {
    this.assertOpen();
    const prefix = this.prefix(view);
    checkEntityKeys(entityKeys);
    checkFeatures(features);
    // lmdb-js keeps one read snapshot for the rest of the event turn. After a write through any
    // handle in this process, renew it so a read never misses a write that has already resolved.
    // (Writes from other processes become visible at the next turn, when lmdb-js renews anyway.)
    if (this.seenCommits !== processCommits) {
      this.db.resetReadTxn();
      this.seenCommits = processCommits;
    }
    const m = features.length;
    const now = Date.now();
    const out: OnlineRead[] = new Array(entityKeys.length);
    for (let i = 0; i < entityKeys.length; i++) {
      const entityKey = entityKeys[i]!;
      const key = prefix + entityKey;
      const text = this.tooLong(key) ? undefined : this.db.get(key);
      if (text === undefined) {
        out[i] = missing(entityKey, m);
        continue;
      }
      const cached = this.decoded.row(key, text, view, entityKey);
      const row = cached.row;
      if (row[1] !== 0 && row[1] <= now) {
        this.noteExpired(key);
        out[i] = missing(entityKey, m);
        continue;
      }
      out[i] = { entityKey, found: true, eventTime: row[0], features: featureReads(cached, features) };
    }
    return out;
  }

  /** Removes every row of the view: its keys are the contiguous range `view NUL` .. `view \u0001`. */
  async deleteView(view: string): Promise<void> {
    this.assertOpen();
    const prefix = this.prefix(view);
    const end = `${view}\u0001`;
    let last: Promise<boolean> | undefined;
    for (const key of this.db.getKeys({ start: prefix, end, snapshot: false })) last = this.db.remove(key);
    await last;
    await this.db.flushed;
    processCommits++;
  }

  private noteExpired(key: string): void {
    this.expiredSeen.add(key);
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    setImmediate(() => {
      this.sweepScheduled = false;
      const keys = [...this.expiredSeen];
      this.expiredSeen.clear();
      if (!this.closed) this.removeIfExpired(keys);
    });
  }

  /** Removes the given keys whose rows are still expired, re-checked inside one write transaction. */
  private removeIfExpired(keys: readonly string[]): number {
    const now = Date.now();
    return this.db.transactionSync(() => {
      let removed = 0;
      for (const key of keys) {
        const text = this.db.get(key);
        if (text !== undefined && isExpired(text, now) && this.db.removeSync(key)) removed++;
      }
      return removed;
    });
  }

  /**
   * Sweeps the whole store for expired rows in chunks, yielding to the event loop between chunks,
   * and removes them; answers how many were removed. One sweep at a time.
   */
  async purgeExpired(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let removed = 0;
    try {
      let start: string | undefined;
      while (!this.closed) {
        const now = Date.now();
        const expired: string[] = [];
        let seen = 0;
        for (const { key, value } of this.db.getRange({
          start,
          exclusiveStart: start !== undefined,
          limit: SWEEP_CHUNK,
        })) {
          seen++;
          start = key;
          if (isExpired(value, now)) expired.push(key);
        }
        if (expired.length > 0) removed += this.removeIfExpired(expired);
        if (seen < SWEEP_CHUNK) break;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.sweeping = false;
    }
    return removed;
  }

  /** Answers when the environment can be read. */
  async ping(): Promise<void> {
    this.assertOpen();
    try {
      this.db.get(SEPARATOR);
    } catch (err) {
      throw storeUnavailable('online', this.description, 'reading the LMDB environment', err);
    }
  }

  /** Stops the sweep, waits for queued writes and closes the environment. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.db.close();
  }
}

/** Opens (creating if needed) the LMDB online store at `path`; STORE_UNAVAILABLE when it cannot. */
export async function openLmdbOnlineStore(
  path: string,
  options: LmdbOnlineStoreOptions = {},
): Promise<LmdbOnlineStore> {
  try {
    return new LmdbOnlineStore(path, options);
  } catch (err) {
    throw storeUnavailable('online', `lmdb:${path}`, `opening the LMDB environment at ${path}`, err);
  }
}
