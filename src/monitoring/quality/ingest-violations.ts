/**
 * Ingestion violations of a window, per model feature: what the feature store rejected (REST and
 * gRPC pushes, dead-lettered stream messages, bad file values) in the fields feeding the feature
 * (see feature-fields.ts), read from the state store's per-minute aggregates. Minute resolution: a
 * minute counts when it starts in [from, to).
 *
 * Default rule: `warning` at any violation, `fail` when they exceed 1% of the window's rows (a
 * rejected event is a row the model never saw with fresh values; one in a hundred is as much as the
 * out-of-range rule tolerates before it warns).
 */
import type { StateStore } from '../../stores/state/port.js';
import { featureFields } from './feature-fields.js';
import { hasTable } from './registry-tables.js';
import type { FeatureQuality, QualityStatus } from './window-quality.js';

/** The fail threshold of the default rule, as a share of the window's rows (any violation warns). */
export const INGEST_VIOLATION_RULES = { failShare: 0.01 } as const;

/** Which model version's features, over which window. `WindowSpec` of the window drift fits. */
export interface ViolationWindow {
  model: string;
  version: number;
  from: Date;
  to: Date;
  features: readonly string[];
}

export interface FieldViolations {
  source: string;
  field: string;
  code: string;
  count: number;
  /** The first message recorded for it in the window. */
  sample: string;
}

export interface FeatureViolations {
  /** The `view:feature` the feature is filled from. */
  ref: string;
  violations: number;
  /** Violations per window row (the share the rule grades). */
  share: number;
  status: QualityStatus;
  fields: FieldViolations[];
}

/** Violations per feature fed by the feature store, over [from, to), graded against `rows` window rows. */
export async function windowViolations(
  state: StateStore,
  window: ViolationWindow,
  rows: number,
): Promise<Record<string, FeatureViolations>> {
  const fed = await featureFields(state, window.model, window.version, window.features);
  if (Object.keys(fed).length === 0) return {};
  const found = await violationsBetween(state, window.from, window.to);
  const out: Record<string, FeatureViolations> = {};
  for (const [feature, { ref, fields }] of Object.entries(fed)) {
    const wanted = new Set(fields.map((f) => `${f.source}\u0000${f.field}`));
    const hits = found.filter((v) => wanted.has(`${v.source}\u0000${v.field}`));
    const violations = hits.reduce((sum, v) => sum + v.count, 0);
    const share = rows > 0 ? violations / rows : violations > 0 ? 1 : 0;
    out[feature] = { ref, violations, share, status: violationStatus(violations, share), fields: hits };
  }
  return out;
}

/** The default rule: `fail` above 1% of the window's rows, `warning` at any violation. */
export function violationStatus(violations: number, share: number): QualityStatus {
  if (share > INGEST_VIOLATION_RULES.failShare) return 'fail';
  return violations > 0 ? 'warning' : 'ok';
}

/** Every (source, field, code) rejected in [from, to), summed over its minutes. */
export async function violationsBetween(state: StateStore, from: Date, to: Date): Promise<FieldViolations[]> {
  if (!(await hasTable(state, 'feature_ingest_violations'))) return [];
  const found = await state.query<{ source: string; field: string; code: string; n: string; sample: string }>(
    `SELECT source, field, code, sum(count)::text AS n,
            (array_agg(sample ORDER BY first_seen))[1] AS sample
     FROM feature_ingest_violations WHERE minute >= $1 AND minute < $2
     GROUP BY source, field, code ORDER BY source, field, code`,
    [from, to],
  );
  return found.rows.map((r) => ({
    source: r.source,
    field: r.field,
    code: r.code,
    count: Number(r.n),
    sample: r.sample,
  }));
}

/** The window's quality with each fed feature's violations added as a check, its status the worst. */
export function withIngestViolations(
  quality: Readonly<Record<string, FeatureQuality>>,
  violations: Readonly<Record<string, FeatureViolations>>,
): Record<string, FeatureQuality> {
  const out: Record<string, FeatureQuality> = {};
  for (const [feature, q] of Object.entries(quality)) {
    const v = violations[feature];
    if (!v) {
      out[feature] = q;
      continue;
    }
    const statuses = [q.status, v.status];
    const status = statuses.includes('fail') ? 'fail' : statuses.includes('warning') ? 'warning' : 'ok';
    out[feature] = { ...q, ingestViolations: { value: v.share, baseline: null, status: v.status }, status };
  }
  return out;
}
