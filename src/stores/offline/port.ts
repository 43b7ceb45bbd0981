import type { Store } from '../store.js';

export type OfflineType =
  | 'int64'
  | 'int32'
  | 'float64'
  | 'float32'
  | 'string'
  | 'bool'
  | 'timestamp'
  | 'float64[]'
  | 'json';

/** Column name -> type, in column order. */
export type OfflineSchema = Record<string, OfflineType>;

/** A row to append: timestamps as Date or epoch milliseconds, int64 as bigint or safe integer. */
export type OfflineRow = Record<string, unknown>;

/** Append-only history (features, predictions, labels) and set-based SQL over it. */
export interface OfflineStore extends Store {
  /** Creates the table if missing; an existing table must have the same columns. */
  ensureTable(table: string, schema: OfflineSchema): Promise<void>;
  /** Appends all rows or none; resolves only once they are durable. */
  append(table: string, rows: readonly OfflineRow[]): Promise<{ rows: number }>;
  /** Runs SQL with `$1`-style parameters; BIGINT comes back as bigint, TIMESTAMP as Date. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Runs SQL as `query` does and answers it column by column, without a row object per row: DOUBLE,
   * FLOAT and integer columns of at most 32 bits as Float64Array (NaN for NULL), every other column
   * as an array of the values `query` would give.
   */
  queryColumns(sql: string, params?: readonly unknown[]): Promise<Record<string, Float64Array | unknown[]>>;
}
