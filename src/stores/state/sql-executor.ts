/**
 * What both state stores share: the SqlExecutor over a driver (pg or PGlite), its argument checks, the
 * int8 type ids, and the mapping of database errors to MeridianError.
 */
import { invalidArgument, MeridianError, storeUnavailable } from '../../core/errors.js';
import type { QueryResult, SqlExecutor, SqlParam } from './port.js';

/** PostgreSQL type ids of int8 and int8[], parsed to bigint on both engines. */
export const INT8 = 20;
export const INT8_ARRAY = 1016;

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

/** Whether err came from the database server (it carries a SQLSTATE), not from the connection. */
export function isDatabaseError(err: unknown): err is DatabaseErrorLike {
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

/** The FAILED_PRECONDITION for a statement on a transaction executor after its transaction ended. */
export function transactionEnded(): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    'this transaction has ended; run further statements in a new transaction()',
  );
}

/** The driver calls an executor runs: on a pool, a pooled client, PGlite or one of its transactions. */
export interface SqlRunner {
  query(sql: string, values: readonly SqlParam[]): Promise<QueryResult<unknown>>;
  exec(sql: string): Promise<void>;
}

/**
 * A SqlExecutor on runner: arguments are checked first, then `refusal()` says why the executor may no
 * longer be used (store closed, transaction ended), and driver errors become MeridianErrors.
 */
export function sqlExecutor(
  runner: SqlRunner,
  description: string,
  refusal: () => MeridianError | null,
): SqlExecutor {
  return {
    async query<T>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>> {
      checkSql(sql);
      const values = checkParams(params);
      const refused = refusal();
      if (refused) throw refused;
      try {
        return (await runner.query(sql, values)) as QueryResult<T>;
      } catch (err) {
        throw sqlError(err, description, 'query');
      }
    },
    async exec(sql: string): Promise<void> {
      checkSql(sql);
      const refused = refusal();
      if (refused) throw refused;
      try {
        await runner.exec(sql);
      } catch (err) {
        throw sqlError(err, description, 'exec');
      }
    },
  };
}
