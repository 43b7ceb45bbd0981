/**
 * Receiving labels: each is matched to its prediction, then sorted into accepted, duplicate (its
 * prediction row already has a label, stored earlier or earlier in the same request: the first
 * label is kept), unknown (no such prediction in the log) or outside the lookback (the prediction is
 * older than the lookback when the label arrives). Accepted labels are appended to the offline
 * `labels` table in one append. Ingestion is serialised within the process, so two concurrent
 * requests cannot both store a label for the same prediction row.
 */
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { OfflineRow, OfflineStore } from '../../stores/offline/port.js';
import { type MatchedPrediction, matchPredictions } from './matching.js';
import type { LabelInput } from './schema.js';
import { LABELS_SCHEMA, LABELS_TABLE } from './table.js';

/** Labels are accepted for predictions at most this old (14 days) unless configured. */
export const DEFAULT_LABEL_LOOKBACK_MS = 14 * 24 * 3600 * 1000;

/** What happened to the labels of one request. */
export interface LabelIngestResult {
  accepted: number;
  duplicates: number;
  unknown: number;
  outsideLookback: number;
}

export interface LabelStoreOptions {
  offline: OfflineStore;
  logger: Logger;
  /** Oldest prediction, in milliseconds before the label arrives, that still accepts a label. */
  lookbackMs?: number;
  clock?: Clock;
}

export interface LabelStore {
  /** Matches, classifies and stores the labels; never fails for unknown, duplicate or late ones. */
  ingest(labels: readonly LabelInput[]): Promise<LabelIngestResult>;
}

const rowKey = (p: { requestId: string; row: number }) => `${p.requestId}\u0000${p.row}`;

/** The label store over the offline store; creates the labels table on first use. */
export function createLabelStore(options: LabelStoreOptions): LabelStore {
  const { offline, logger } = options;
  const lookbackMs = options.lookbackMs ?? DEFAULT_LABEL_LOOKBACK_MS;
  const clock = options.clock ?? systemClock;
  let ready: Promise<void> | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  async function ingestNow(labels: readonly LabelInput[]): Promise<LabelIngestResult> {
    ready ??= offline.ensureTable(LABELS_TABLE, LABELS_SCHEMA).catch((err) => {
      ready = undefined;
      throw err;
    });
    await ready;
    const now = clock.now();
    const matches = await matchPredictions(offline, labels);
    const stored = await labelledRows(offline, matches);
    const result: LabelIngestResult = { accepted: 0, duplicates: 0, unknown: 0, outsideLookback: 0 };
    const rows: OfflineRow[] = [];
    labels.forEach((label, i) => {
      const match = matches[i];
      if (!match) result.unknown++;
      else if (match.time.getTime() < now - lookbackMs) result.outsideLookback++;
      else if (stored.has(rowKey(match))) result.duplicates++;
      else {
        stored.add(rowKey(match));
        rows.push(toRow(label, match, now));
        result.accepted++;
      }
    });
    if (rows.length > 0) await offline.append(LABELS_TABLE, rows);
    logger.debug({ ...result, received: labels.length }, 'labels received');
    return result;
  }

  return {
    ingest(labels) {
      const run = tail.then(() => ingestNow(labels));
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

function toRow(label: LabelInput, match: MatchedPrediction, now: number): OfflineRow {
  return {
    request_id: match.requestId,
    row: match.row,
    model: match.model,
    version: match.version,
    label: label.label,
    label_time: label.time === undefined ? now : Date.parse(label.time),
    received_at: now,
  };
}

/** The prediction rows among the matches that already have a stored label. */
async function labelledRows(
  offline: OfflineStore,
  matches: readonly (MatchedPrediction | undefined)[],
): Promise<Set<string>> {
  const found = matches.filter((m): m is MatchedPrediction => m !== undefined);
  if (found.length === 0) return new Set();
  const rows = await offline.query<{ request_id: string; row: number }>(
    `WITH q AS (SELECT unnest($1::VARCHAR[]) AS request_id, unnest($2::DOUBLE[])::INTEGER AS "row")
     SELECT DISTINCT l.request_id, l."row" FROM ${LABELS_TABLE} l
       JOIN q ON l.request_id = q.request_id AND l."row" = q."row"`,
    [found.map((m) => m.requestId), found.map((m) => m.row)],
  );
  return new Set(rows.map((r) => rowKey({ requestId: r.request_id, row: r.row })));
}
