/**
 * What the demo reads back through the public API: how many users the online store knows, and a
 * point-in-time training set from `POST /v1/features/historical`.
 */
import { MeridianError } from '../core/errors.js';

/** Entities per online read, to keep each request small. */
const ONLINE_CHUNK = 5000;

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new MeridianError(
      'INTERNAL',
      `${url} answered ${response.status}: ${String(parsed.error ?? 'no error message')}`,
    );
  }
  return parsed;
}

/** How many of users 1..users have a value of `feature` online, read through Feast's online path. */
export async function countOnlineEntities(url: string, feature: string, users: number): Promise<number> {
  let present = 0;
  for (let first = 1; first <= users; first += ONLINE_CHUNK) {
    const ids = Array.from({ length: Math.min(ONLINE_CHUNK, users - first + 1) }, (_, i) => first + i);
    const body = await postJson(`${url}/get-online-features`, {
      features: [feature],
      entities: { user_id: ids },
    });
    const results = body.results as { statuses: string[] }[];
    present += results[1]?.statuses.filter((s) => s === 'PRESENT').length ?? 0;
  }
  return present;
}

/** An entity row of a training set: whose features, as of when. */
// A type alias, not an interface, so it fits the SDK's entity rows (which have an index signature).
export type EntityRow = {
  user_id: number;
  event_timestamp: string;
};

/** A training set and how much of it has feature values. */
export interface TrainingSet {
  featureService: string;
  requested: number;
  rows: number;
  /** Rows with at least one non-null feature value. */
  rowsWithFeatures: number;
  /** Non-null values per feature column. */
  nonNullByFeature: Record<string, number>;
  sample: Record<string, unknown>[];
}

/** Builds a point-in-time training set for a feature service and summarises it. */
export async function buildTrainingSet(
  url: string,
  featureService: string,
  entities: readonly EntityRow[],
): Promise<TrainingSet> {
  const body = await postJson(`${url}/v1/features/historical`, { entities, featureService });
  const rows = body.rows as Record<string, unknown>[];
  const keys = new Set(['user_id', 'event_timestamp']);
  const features = Object.keys(rows[0] ?? {}).filter((name) => !keys.has(name));
  const nonNullByFeature = Object.fromEntries(
    features.map((f) => [f, rows.filter((row) => row[f] !== null && row[f] !== undefined).length]),
  );
  const rowsWithFeatures = rows.filter((row) =>
    features.some((f) => row[f] !== null && row[f] !== undefined),
  );
  return {
    featureService,
    requested: entities.length,
    rows: rows.length,
    rowsWithFeatures: rowsWithFeatures.length,
    nonNullByFeature,
    sample: rows.slice(0, 5),
  };
}
