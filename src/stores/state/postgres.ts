/** The state store on PostgreSQL (`pg` Pool). */
import pg from 'pg';
import { type MeridianError, redactUrl, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { applyMigrations } from './migrate.js';
import type { MigrateResult, Migration, QueryResult, SqlExecutor, SqlParam, StateStore } from './port.js';
import {
  checkFunction,
  INT8,
  INT8_ARRAY,
  isDatabaseError,
  type SqlRunner,
  sqlError,
  sqlExecutor,
  transactionEnded,
} from './sql-executor.js';

const CONNECT_TIMEOUT_MS = 5000;

/** Parses a PostgreSQL int8[] literal such as `{1,NULL,{2,3}}` into bigints, so arrays match scalars. */
export function parseBigintArray(text: string): unknown[] {
  let pos = 0;
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    pos++; // the opening brace
    let token = '';
    const flush = (): void => {
      if (token !== '') out.push(token === 'NULL' ? null : BigInt(token));
      token = '';
    };
    while (pos < text.length) {
      const ch = text[pos];
      if (ch === '{') out.push(parseLevel());
      else if (ch === '}') {
        flush();
        pos++;
        return out;
      } else if (ch === ',') {
        flush();
        pos++;
      } else {
        token += ch;
        pos++;
      }
    }
    return out;
  };
  return parseLevel();
}

/** int8 as bigint on both engines (pg returns strings by default, PGlite returns bigint). */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8) return (value: string) => BigInt(value);
    if (oid === INT8_ARRAY) return parseBigintArray;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function toResult<T>(result: pg.QueryResult): QueryResult<T> {
  const mutated = result.command === 'INSERT' || result.command === 'UPDATE' || result.command === 'DELETE';
  return { rows: result.rows as T[], affectedRows: mutated ? (result.rowCount ?? 0) : 0 };
}

/** The SqlRunner of the pool or of one pooled client. */
function runnerOn(target: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async query(sql, values) {
      return toResult(await target.query(sql, values as unknown[]));
    },
    async exec(sql) {
      await target.query(sql);
    },
  };
}

export class PostgresStateStore implements StateStore {
  readonly description: string;
  #closing: Promise<void> | undefined;
  readonly #pool: pg.Pool;
  readonly #executor: SqlExecutor;

  private constructor(pool: pg.Pool, description: string) {
    this.#pool = pool;
    this.description = description;
    this.#executor = sqlExecutor(runnerOn(pool), description, () => this.#refusal());
  }

  /** Opens a pool and checks it with `SELECT 1`; an unreachable server fails within the connect timeout. */
  static async open(url: string, ctx: StoreContext, storeName = 'state'): Promise<PostgresStateStore> {
    const pool = new pg.Pool({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      max: 10,
      idleTimeoutMillis: 30_000,
      application_name: 'meridian',
      types: pgTypes,
    });
    pool.on('error', (err) =>
      ctx.logger.warn({ err, store: redactUrl(url) }, 'idle PostgreSQL client failed'),
    );
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storeUnavailable(
        storeName,
        url,
        `connecting and running SELECT 1 (timeout ${CONNECT_TIMEOUT_MS} ms)`,
        err,
      );
    }
    return new PostgresStateStore(pool, redactUrl(url));
  }

  #refusal(): MeridianError | null {
    return this.#closing ? storeClosed('state', this.description) : null;
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

  /** For pg-boss's `db` option: the pool's own result shape, multi-statement text allowed without values. */
  async executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    this.#refuse();
    try {
      const result = (await this.#pool.query(text, values)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? { rows: result.flatMap((r) => r.rows ?? []) } : result;
    } catch (err) {
      throw sqlError(err, this.description, 'query');
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    checkFunction(fn, 'fn');
    this.#refuse();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw sqlError(err, this.description, 'taking a connection for a transaction');
    }
    let done = false;
    const tx = sqlExecutor(runnerOn(client), this.description, () => (done ? transactionEnded() : null));
    try {
      await this.#step(client, 'BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await this.#step(client, 'ROLLBACK');
        throw err;
      }
      await this.#step(client, 'COMMIT');
      return result;
    } finally {
      done = true;
      client.release(this.#broken.get(client));
    }
  }

  /** Connection-level failures mark the client broken so the pool drops it instead of reusing it. */
  readonly #broken = new WeakMap<pg.PoolClient, Error>();

  async #step(client: pg.PoolClient, statement: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await client.query(statement);
    } catch (err) {
      if (!isDatabaseError(err)) this.#broken.set(client, err as Error);
      if (statement !== 'ROLLBACK') throw sqlError(err, this.description, statement);
    }
  }

  migrate(migrations: readonly Migration[]): Promise<MigrateResult> {
    return applyMigrations(this, migrations);
  }

  async ping(): Promise<void> {
    this.#refuse();
    try {
      await this.#pool.query('SELECT 1');
    } catch (err) {
      throw storeUnavailable('state', this.description, 'SELECT 1', err);
    }
  }

  /** Every call gets the same promise, which settles once the pool has ended. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}
