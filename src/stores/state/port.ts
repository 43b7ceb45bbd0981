import type { Store } from '../store.js';

export type SqlParam = string | number | bigint | boolean | null | Date | Uint8Array | unknown[] | object;

export interface QueryResult<T> {
  rows: T[];
  /** Rows changed by INSERT/UPDATE/DELETE; 0 for other statements. */
  affectedRows: number;
}

/** Runs SQL with `$1`-style parameters: the same PostgreSQL dialect on PGlite and on PostgreSQL. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<T>>;
  /** Runs one or more statements without parameters (DDL, scripts). */
  exec(sql: string): Promise<void>;
}

/** One versioned schema change. Versions are applied once, in order; an applied one never changes. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrateResult {
  applied: number[];
  /** Versions that were already in place and skipped. */
  skipped: number[];
}

/** The registry, runs, alerts and lineage live here. */
export interface StateStore extends Store, SqlExecutor {
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Applies the migrations not yet applied, each in its own transaction; running twice changes nothing. */
  migrate(migrations: readonly Migration[]): Promise<MigrateResult>;
}
