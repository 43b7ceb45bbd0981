/**
 * A brute-force point-in-time oracle in plain TypeScript, written from the contract alone (no SQL):
 * for every entity row and view it scans all the view's rows.
 */

/** A view as the oracle sees it: its join keys, TTL and rows in append order (times in epoch ms). */
export interface OracleView {
  name: string;
  keys: readonly string[];
  ttlMs: number | undefined;
  rows: readonly Record<string, unknown>[];
}

/** A requested feature: which view, which feature, and the output column name. */
export interface OracleFeature {
  view: string;
  feature: string;
  ref: string;
}

/** The expected answer rows: the entity's keys and time, then each feature's value or null. */
export function pointInTimeOracle(
  views: readonly OracleView[],
  entityRows: readonly Record<string, unknown>[],
  features: readonly OracleFeature[],
  asOfMs?: number,
): Record<string, unknown>[] {
  return entityRows.map((entity) => {
    const t = entity.event_timestamp as number;
    const out: Record<string, unknown> = { ...entity };
    for (const f of features) {
      const view = views.find((v) => v.name === f.view)!;
      const row = latestRow(view, entity, t, asOfMs);
      out[f.ref] = row === undefined ? null : (row[f.feature] ?? null);
    }
    return out;
  });
}

function latestRow(
  view: OracleView,
  entity: Record<string, unknown>,
  t: number,
  asOfMs: number | undefined,
): Record<string, unknown> | undefined {
  let best: Record<string, unknown> | undefined;
  for (const row of view.rows) {
    if (!view.keys.every((k) => String(row[k]) === String(entity[k]))) continue;
    const event = row.event_timestamp as number;
    const created = row.created_timestamp as number;
    if (event > t) continue;
    if (asOfMs !== undefined && created > asOfMs) continue;
    if (view.ttlMs !== undefined && event < t - view.ttlMs) continue;
    // Later in the array = appended later, so on a full tie the later row wins (>=).
    if (best === undefined || isAtLeast(event, created, best)) best = row;
  }
  return best;
}

function isAtLeast(event: number, created: number, best: Record<string, unknown>): boolean {
  const bestEvent = best.event_timestamp as number;
  if (event !== bestEvent) return event > bestEvent;
  return created >= (best.created_timestamp as number);
}
