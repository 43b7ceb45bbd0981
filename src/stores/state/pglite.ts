/**
 * The embedded state store: PGlite (PostgreSQL compiled to WASM) with its data directory on disk.
 * PGlite is one connection in one process, so the data directory is guarded by a lock file
 * (data-dir-lock.ts), and transactions are exclusive.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { acquireDataDirLock, releaseDataDirLock } from './data-dir-lock.js';
import { applyMigrations } from './migrate.js';
import type { MigrateResult, Migration, QueryResult, SqlExecutor, SqlParam, StateStore } from './port.js';
import {
  checkFunction,
  INT8,
  type SqlRunner,
  sqlError,
  sqlExecutor,
  transactionEnded,
} from './sql-executor.js';

/** Plain objects go in as JSON text, as `pg` sends them, so both engines accept the same parameters. */
function toPgliteParam(value: SqlParam): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof Uint8Array || Array.isArray(value)) return value;
  return JSON.stringify(value);
}

/** The SqlRunner of PGlite or of one of its transactions. */
function runnerOn(target: Pick<PGlite, 'query' | 'exec'>): SqlRunner {
  return {
    async query(sql, values) {
      const result = await target.query(sql, values.map(toPgliteParam));
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
    async exec(sql) {
      await target.exec(sql);
    },
  };
}

export class PgliteStateStore implements StateStore {
  readonly description: string;
  readonly #db: PGlite;
  readonly #lockPath: string;
  readonly #executor: SqlExecutor;
  /** Marks async work started inside transaction(), to refuse re-entering the store (which would deadlock). */
  readonly #inTransaction = new AsyncLocalStorage<true>();
  #closing: Promise<void> | undefined;

  private constructor(db: PGlite, dataDir: string, lockPath: string) {
    this.#db = db;
    this.#lockPath = lockPath;
    this.description = `pglite:${dataDir}`;
    this.#executor = sqlExecutor(runnerOn(db), this.description, () => this.#refusal());
  }

  /** Opens (creating if needed) the data directory; fails with STORE_UNAVAILABLE if another process holds it. */
  static async open(dataDir: string, _ctx: StoreContext): Promise<PgliteStateStore> {
    const description = `pglite:${dataDir}`;
    const lockPath = `${dataDir.replace(/\/+$/, '')}.lock`;
    try {
      mkdirSync(dirname(lockPath), { recursive: true });
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw storeUnavailable('state', description, `creating the data directory ${dataDir}`, err);
    }
    acquireDataDirLock(lockPath, description);
    try {
      const db = await PGlite.create({
        dataDir,
        // int8 always as bigint, like the PostgreSQL store (PGlite's default gives numbers when they fit).
        parsers: { [INT8]: (text: string) => BigInt(text) },
      });
      return new PgliteStateStore(db, dataDir, lockPath);
    } catch (err) {
      releaseDataDirLock(lockPath);
      throw storeUnavailable('state', description, 'opening PGlite on the data directory', err);
    }
  }

  #refusal(): MeridianError | null {
    if (this.#closing) return storeClosed('state', this.description);
    if (this.#inTransaction.getStore()) {
      return new MeridianError(
        'FAILED_PRECONDITION',
        `state store ${this.description} was used directly inside its own transaction(), which would deadlock; use the tx executor passed to the callback`,
      );
    }
    return null;
  }

  #refuse(): void {
    const refused = this.#refusal();
    if (refused) throw refused;
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
    return this.#executor.query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#executor.exec(sql);
  }

  /** For pg-boss's `db` option: parameterless text may hold several statements (run as a simple query). */
  async executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    this.#refuse();
    try {
      if (values?.length) return await this.#db.query(text, values);
      const results = await this.#db.exec(text);
      return { rows: results.flatMap((r) => r.rows ?? []) };
    } catch (err) {
      throw sqlError(err, this.description, 'query');
    }
  }

  /**
   * Exclusive: PGlite's transaction() holds its transaction mutex from BEGIN to COMMIT, and every
   * query()/exec() outside the transaction takes the same mutex, so they wait for it to end instead of
   * interleaving into it on the single connection. Using this store (not `tx`) inside fn would wait
   * on itself forever, so that is refused with FAILED_PRECONDITION.
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    checkFunction(fn, 'fn');
    this.#refuse();
    let failed: { err: unknown } | undefined;
    try {
      return await this.#db.transaction(async (raw) => {
        let done = false;
        const tx = sqlExecutor(runnerOn(raw), this.description, () => (done ? transactionEnded() : null));
        try {
          return await this.#inTransaction.run(true, () => fn(tx));
        } catch (err) {
          failed = { err };
          throw err;
        } finally {
          done = true;
        }
      });
    } catch (err) {
      // The callback's own error passes through unchanged; anything else came from BEGIN/COMMIT.
      if (failed && failed.err === err) throw err;
      throw sqlError(err, this.description, 'transaction');
    }
  }

  migrate(migrations: readonly Migration[]): Promise<MigrateResult> {
    return applyMigrations(this, migrations);
  }

  async ping(): Promise<void> {
    if (this.#closing) throw storeClosed('state', this.description);
    try {
      await this.#db.query('SELECT 1');
    } catch (err) {
      throw storeUnavailable('state', this.description, 'SELECT 1', err);
    }
  }

  /** Every call gets the same promise, which settles once PGlite is closed and the lock released. */
  close(): Promise<void> {
    this.#closing ??= this.#db.close().finally(() => releaseDataDirLock(this.#lockPath));
    return this.#closing;
  }
}
