/**
 * Feature freshness as the monitor reads it: each applied view's last write (which the feature store
 * persists, at most once a second per view) against its freshness objective, its ttl or a day
 * without one (core/metrics.ts, shared with the feature store's gauges).
 *
 * Default rule: `ok` up to half the objective, `warning` up to the objective, `fail` past it (the
 * SLO breach the `MeridianFeatureFreshnessSLO` alert fires on). A view with no recorded write is
 * `warning`: nothing shows it stale, nor that it was ever fed.
 */
import { parseDuration } from '../../core/clock.js';
import {
  FEATURE_FRESHNESS_SECONDS,
  FEATURE_FRESHNESS_SLO_RATIO,
  freshnessObjectiveSeconds,
} from '../../core/metrics.js';
import type { StateStore } from '../../stores/state/port.js';
import type { MetricSample } from '../alerts/evaluator.js';
import { hasTable } from './registry-tables.js';
import type { QualityStatus } from './window-quality.js';

/** The thresholds of the default rule, as age / objective. */
export const FRESHNESS_RULES = { warningRatio: 0.5, failRatio: 1 } as const;

export interface ViewFreshness {
  /** ISO time of the newest write, null when none is recorded. */
  lastWriteAt: string | null;
  ageSeconds: number | null;
  objectiveSeconds: number;
  /** ageSeconds / objectiveSeconds. */
  ratio: number | null;
  status: QualityStatus;
}

/** Freshness of every applied feature view at `now` (epoch ms); empty without the feature store's tables. */
export async function viewFreshness(state: StateStore, now: number): Promise<Record<string, ViewFreshness>> {
  if (!(await hasTable(state, 'feature_view_freshness'))) return {};
  const found = await state.query<{ view: string; ttl: string | null; last_write_at: Date | null }>(
    `SELECT r.name AS view, r.definition->>'ttl' AS ttl, f.last_write_at
     FROM feature_registry r LEFT JOIN feature_view_freshness f ON f.view = r.name
     WHERE r.kind = 'feature_view' ORDER BY r.name`,
  );
  const out: Record<string, ViewFreshness> = {};
  for (const row of found.rows) {
    const objectiveSeconds = freshnessObjectiveSeconds(row.ttl ? parseDuration(row.ttl) : undefined);
    const last = row.last_write_at === null ? null : new Date(row.last_write_at);
    const ageSeconds = last === null ? null : Math.max(0, now - last.getTime()) / 1000;
    const ratio = ageSeconds === null ? null : ageSeconds / objectiveSeconds;
    out[row.view] = {
      lastWriteAt: last?.toISOString() ?? null,
      ageSeconds,
      objectiveSeconds,
      ratio,
      status: freshnessStatus(ratio),
    };
  }
  return out;
}

/** The default rule over age / objective; null (no write recorded) is `warning`. */
export function freshnessStatus(ratio: number | null): QualityStatus {
  if (ratio === null) return 'warning';
  if (ratio > FRESHNESS_RULES.failRatio) return 'fail';
  return ratio > FRESHNESS_RULES.warningRatio ? 'warning' : 'ok';
}

/** The freshness series as alert samples, for a monitor that evaluates rules in process. */
export function freshnessSamples(views: Record<string, ViewFreshness>, now: number): MetricSample[] {
  return Object.entries(views).flatMap(([view, f]) =>
    f.ageSeconds === null || f.ratio === null
      ? []
      : [
          {
            metric: FEATURE_FRESHNESS_SECONDS,
            labels: { feature_view: view },
            value: f.ageSeconds,
            time: now,
          },
          { metric: FEATURE_FRESHNESS_SLO_RATIO, labels: { feature_view: view }, value: f.ratio, time: now },
        ],
  );
}
