import type { Store } from '../store.js';

/**
 * A feature value as the online store keeps it. Types survive a round trip:
 * `bigint` is int64 (exact beyond 2^53), `number` is float64, `number[]` is a list of float64.
 */
export type FeatureValue = null | boolean | number | bigint | string | number[];

/** The latest values of one entity in one feature view. */
export interface OnlineRow {
  /** The entity key, already serialised from the join keys (e.g. `"42"` or `"42|US"`). */
  entityKey: string;
  /** Event time of these values, in epoch milliseconds: the row with the newest one wins. */
  eventTime: number;
  values: Record<string, FeatureValue>;
}

export interface WriteLatestOptions {
  /** Rows expire this many milliseconds after they are written; no expiry when absent. */
  ttlMs?: number;
}

export interface WriteLatestResult {
  /** Rows that became the latest for their entity. */
  written: number;
  /** Rows dropped because the store already held a newer event time for that entity. */
  stale: number;
}

/** One feature of one entity as read: a missing entity or feature is NOT_FOUND, never a zero. */
export type FeatureRead = { status: 'PRESENT'; value: FeatureValue } | { status: 'NOT_FOUND'; value: null };

/** What getMany answers for one entity key, in the order the keys were asked for. */
export interface OnlineRead {
  entityKey: string;
  /** false when the store has no (unexpired) row for this entity. */
  found: boolean;
  /** Event time of the stored row, epoch milliseconds; null when not found. */
  eventTime: number | null;
  /** One entry per requested feature, in the requested order. */
  features: FeatureRead[];
}

/** Latest feature values per entity and view. */
export interface OnlineStore extends Store {
  /**
   * Stores each row unless the store already holds a newer event time for the same view and entity
   * (an equal event time overwrites). Atomic per entity, also under concurrent writers.
   */
  writeLatest(
    view: string,
    rows: readonly OnlineRow[],
    options?: WriteLatestOptions,
  ): Promise<WriteLatestResult>;
  /** Reads N entity keys x M features of one view in one round trip. */
  getMany(view: string, entityKeys: readonly string[], features: readonly string[]): Promise<OnlineRead[]>;
  /** Removes every row of a view (when a view is deleted or rebuilt). */
  deleteView(view: string): Promise<void>;
}
