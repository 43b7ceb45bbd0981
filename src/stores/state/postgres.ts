/**
 * The state store on PostgreSQL (`pg` Pool), plus the PostgreSQL-dialect helpers both state stores
 * share: argument checks, result types and the mapping of database errors to MeridianError.
 */
import pg from 'pg';
import { invalidArgument, MeridianError, redactUrl, storeUnavailable } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { applyMigrations } from './migrate.js';
import type { MigrateResult, Migration, QueryResult, SqlExecutor, SqlParam, StateStore } from './port.js';

const CONNECT_TIMEOUT_MS = 5000;

/** SQLSTATE classes and codes that mean "the server is not there", not "your SQL is wrong". */
const UNAVAILABLE_STATE = /^(08|53|57P0[1-3])/;
const ERROR_BY_STATE: Record<string, MeridianError['code']> = {
  '23505': 'ALREADY_EXISTS',
  '23503': 'FAILED_PRECONDITION',
  '23502': 'INVALID_ARGUMENT',
  '23514': 'INVALID_ARGUMENT',
  '40001': 'CONFLICT',
  '40P01': 'CONFLICT',
  '57014': 'DEADLINE_EXCEEDED',
};

interface DatabaseErrorLike {
  message: string;
  code: string;
  detail?: string;
  hint?: string;
  position?: string;
  constraint?: string;
  table?: string;
}

function isDatabaseError(err: unknown): err is DatabaseErrorLike {
  const code = (err as { code?: unknown })?.code;
  return err instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** Maps what pg or PGlite threw into a MeridianError; a SQL error keeps the database's own message. */
export function sqlError(err: unknown, description: string, tried: string): MeridianError {
  if (err instanceof MeridianError) return err;
  if (!isDatabaseError(err)) return storeUnavailable('state', description, tried, err);
  if (UNAVAILABLE_STATE.test(err.code)) return storeUnavailable('state', description, tried, err);
  const code = ERROR_BY_STATE[err.code] ?? (err.code.startsWith('22') ? 'INVALID_ARGUMENT' : 'INTERNAL');
  const extra = [err.detail, err.hint && `hint: ${err.hint}`].filter(Boolean).join('; ');
  const details = {
    sqlState: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(err.hint ? { hint: err.hint } : {}),
    ...(err.position ? { position: Number(err.position) } : {}),
    ...(err.constraint ? { constraint: err.constraint } : {}),
    ...(err.table ? { table: err.table } : {}),
  };
  const message = `${err.message} (SQLSTATE ${err.code}${extra ? `; ${extra}` : ''}) in ${description}`;
  return new MeridianError(code, message, details, { cause: err });
}

/** Throws INVALID_ARGUMENT unless sql is a non-empty string. */
export function checkSql(sql: unknown, field = 'sql'): asserts sql is string {
  if (typeof sql !== 'string' || sql.trim() === '') {
    throw invalidArgument(
      field,
      'must be a non-empty SQL string',
      'pass the statement text, e.g. "SELECT 1"',
    );
  }
}

/** Throws INVALID_ARGUMENT unless params is absent or an array of SQL values (undefined is not one). */
export function checkParams(params: unknown): readonly SqlParam[] {
  if (params === undefined) return [];
  if (!Array.isArray(params))
    throw invalidArgument('params', 'must be an array', 'pass [$1, $2, ...] values');
  params.forEach((value, i) => {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
      throw invalidArgument(`params[${i}]`, `${typeof value} is not a SQL value`, 'use null for SQL NULL');
    }
    if (value instanceof Date && Number.isNaN(value.getTime())) {
      throw invalidArgument(`params[${i}]`, 'is an invalid Date', 'pass a valid Date or an ISO-8601 string');
    }
  });
  return params;
}

/** Throws INVALID_ARGUMENT unless fn is a function (for transaction()). */
export function checkFunction(fn: unknown, field: string): void {
  if (typeof fn !== 'function')
    throw invalidArgument(field, 'must be a function', 'pass async (tx) => { ... }');
}

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

const INT8 = 20;
const INT8_ARRAY = 1016;

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

/** An executor on one pooled client or on the pool; `closed()` tells when it may no longer be used. */
function executor(
  target: pg.Pool | pg.PoolClient,
  description: string,
  closed: () => string | null,
): SqlExecutor {
  return {
    async query<T>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
      checkSql(sql);
      const values = checkParams(params);
      const why = closed();
      if (why) throw new MeridianError('FAILED_PRECONDITION', why);
      try {
        return toResult<T>(await target.query(sql, values as unknown[]));
      } catch (err) {
        throw sqlError(err, description, 'query');
      }
    },
    async exec(sql: string): Promise<void> {
      checkSql(sql);
      const why = closed();
      if (why) throw new MeridianError('FAILED_PRECONDITION', why);
      try {
        await target.query(sql);
      } catch (err) {
        throw sqlError(err, description, 'exec');
      }
    },
  };
}

export class PostgresStateStore implements StateStore {
  readonly description: string;
  #closed = false;
  readonly #pool: pg.Pool;
  readonly #executor: SqlExecutor;

  private constructor(pool: pg.Pool, description: string) {
    this.#pool = pool;
    this.description = description;
    this.#executor = executor(pool, description, () => this.#closedMessage());
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

  #closedMessage(): string | null {
    return this.#closed ? `state store ${this.description} is closed; open a new one` : null;
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
    return this.#executor.query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.#executor.exec(sql);
  }

  /** For pg-boss's `db` option: the pool's own result shape, multi-statement text allowed without values. */
  async executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    const why = this.#closedMessage();
    if (why) throw new MeridianError('FAILED_PRECONDITION', why);
    try {
      const result = (await this.#pool.query(text, values)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? { rows: result.flatMap((r) => r.rows ?? []) } : result;
    } catch (err) {
      throw sqlError(err, this.description, 'query');
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    checkFunction(fn, 'fn');
    const why = this.#closedMessage();
    if (why) throw new MeridianError('FAILED_PRECONDITION', why);
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw sqlError(err, this.description, 'taking a connection for a transaction');
    }
    let done = false;
    const tx = executor(client, this.description, () =>
      done ? 'this transaction has ended; run further statements in a new transaction()' : null,
    );
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
    try {
      await this.#pool.query('SELECT 1');
    } catch (err) {
      throw storeUnavailable('state', this.description, 'SELECT 1', err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
