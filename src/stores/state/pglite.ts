/**
 * The embedded state store: PGlite (PostgreSQL compiled to WASM) with its data directory on disk.
 * PGlite is one connection in one process, so the data directory is guarded by a lock file holding
 * the owner's pid (a lock left by a dead process is taken over), and transactions are exclusive.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { applyMigrations } from './migrate.js';
import type { MigrateResult, Migration, QueryResult, SqlExecutor, SqlParam, StateStore } from './port.js';
import { checkFunction, checkParams, checkSql, sqlError } from './postgres.js';

const INT8 = 20;

/** Plain objects go in as JSON text, as `pg` sends them, so both engines accept the same parameters. */
function toPgliteParam(value: SqlParam): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof Uint8Array || Array.isArray(value)) return value;
  return JSON.stringify(value);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dataDir>.lock` for this process; a lock whose pid is no longer running is stale and taken over. */
function acquireLock(lockPath: string, description: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw storeUnavailable('state', description, `creating the lock file ${lockPath}`, err);
      }
    }
    const owner = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      const who = owner === process.pid ? 'this process' : `process ${owner}`;
      throw storeUnavailable(
        'state',
        description,
        `locking the data directory (${who} has it open; PGlite allows one process at a time — use PostgreSQL to share state)`,
      );
    }
    unlinkSync(lockPath);
  }
  throw storeUnavailable('state', description, `taking over the stale lock file ${lockPath}`);
}

function releaseLock(lockPath: string): void {
  try {
    if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

export class PgliteStateStore implements StateStore {
  readonly description: string;
  readonly #db: PGlite;
  readonly #lockPath: string;
  readonly #executor: SqlExecutor;
  /** Marks async work started inside transaction(), to refuse re-entering the store (which would deadlock). */
  readonly #inTransaction = new AsyncLocalStorage<true>();
  #closed = false;

  private constructor(db: PGlite, dataDir: string, lockPath: string) {
    this.#db = db;
    this.#lockPath = lockPath;
    this.description = `pglite:${dataDir}`;
    this.#executor = this.#executorOn(db, () => this.#usable());
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
    acquireLock(lockPath, description);
    try {
      const db = await PGlite.create({
        dataDir,
        // int8 always as bigint, like the PostgreSQL store (PGlite's default gives numbers when they fit).
        parsers: { [INT8]: (text: string) => BigInt(text) },
      });
      return new PgliteStateStore(db, dataDir, lockPath);
    } catch (err) {
      releaseLock(lockPath);
      throw storeUnavailable('state', description, 'opening PGlite on the data directory', err);
    }
  }

  #usable(): string | null {
    if (this.#closed) return `state store ${this.description} is closed; open a new one`;
    if (this.#inTransaction.getStore()) {
      return `state store ${this.description} was used directly inside its own transaction(), which would deadlock; use the tx executor passed to the callback`;
    }
    return null;
  }

  #executorOn(runner: Runner, usable: () => string | null): SqlExecutor {
    const description = this.description;
    return {
      async query<T>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
        checkSql(sql);
        const values = checkParams(params).map(toPgliteParam);
        const why = usable();
        if (why) throw new MeridianError('FAILED_PRECONDITION', why);
        try {
          const result = await runner.query<T>(sql, values);
          return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
        } catch (err) {
          throw sqlError(err, description, 'query');
        }
      },
      async exec(sql: string): Promise<void> {
        checkSql(sql);
        const why = usable();
        if (why) throw new MeridianError('FAILED_PRECONDITION', why);
        try {
          await runner.exec(sql);
        } catch (err) {
          throw sqlError(err, description, 'exec');
        }
      },
    };
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
    return this.#executor.query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#executor.exec(sql);
  }

  /** For pg-boss's `db` option: parameterless text may hold several statements (run as a simple query). */
  async executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    const why = this.#usable();
    if (why) throw new MeridianError('FAILED_PRECONDITION', why);
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
    const why = this.#usable();
    if (why) throw new MeridianError('FAILED_PRECONDITION', why);
    let failed: { err: unknown } | undefined;
    try {
      return await this.#db.transaction(async (raw) => {
        let done = false;
        const tx = this.#executorOn(raw, () =>
          done ? 'this transaction has ended; run further statements in a new transaction()' : null,
        );
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
    if (this.#closed) throw storeClosed('state', this.description);
    try {
      await this.#db.query('SELECT 1');
    } catch (err) {
      throw storeUnavailable('state', this.description, 'SELECT 1', err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#db.close();
    } finally {
      releaseLock(this.#lockPath);
    }
  }
}
