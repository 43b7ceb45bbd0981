/**
 * Data quality of a window of the prediction log against the version's baseline, per feature, from
 * the window's extracted long table (one aggregate query): the null share against the baseline's,
 * the share of values outside the baseline's [min, max], and for categorical features the share of
 * values in no category the baseline saw. Each check has a default rule and a status.
 *
 * Default rules (Evidently's data-quality tests compare with the reference the same way):
 * - null share: `warning` above the baseline's share + 0.01, `fail` above it + 0.05;
 * - out of range: `warning` above 1% of non-null values, `fail` above 5%;
 * - unseen categories: `warning` at any, `fail` above 5%; not checked when the baseline kept only
 *   its top categories (it cannot tell an unseen category from one it did not keep).
 */
import type { OfflineStore } from '../../stores/offline/port.js';
import type { BaselineProfile } from '../baseline/profile.js';
import { sqlIdent, sqlString } from '../baseline/reference.js';

export type QualityStatus = 'ok' | 'warning' | 'fail';

export interface QualityCheck {
  /** The window's share (0..1). */
  value: number;
  /** What the baseline had, where the rule compares with it. */
  baseline: number | null;
  status: QualityStatus;
}

export interface FeatureQuality {
  rows: number;
  nullShare: QualityCheck;
  outOfRange: QualityCheck | null;
  unseenCategories: QualityCheck | null;
  /**
   * Events of the feature's source fields rejected at ingestion in the window, as a share of its rows
   * (see ingest-violations.ts); absent when the feature store does not fill the feature.
   */
  ingestViolations?: QualityCheck;
  /** The worst status of the checks. */
  status: QualityStatus;
}

/** The thresholds of the default rules. */
export const QUALITY_RULES = {
  nullShareWarning: 0.01,
  nullShareFail: 0.05,
  outOfRangeWarning: 0.01,
  outOfRangeFail: 0.05,
  unseenFail: 0.05,
} as const;

interface Row {
  col: string;
  n: bigint;
  nulls: bigint;
  outside: bigint;
  unseen: bigint;
}

/** Quality per baseline feature present in the extracted window table `(col, v, s)`. */
export async function windowQuality(
  offline: OfflineStore,
  table: string,
  profile: BaselineProfile,
  rows: number,
): Promise<Record<string, FeatureQuality>> {
  const features = profile.features.filter((f) => profile.columns[f]);
  if (features.length === 0 || rows === 0) return {};
  const limits = features.map((f) => {
    const c = profile.columns[f]!;
    const lo = c.type === 'numerical' && c.min !== null ? String(c.min) : 'NULL';
    const hi = c.type === 'numerical' && c.max !== null ? String(c.max) : 'NULL';
    const text =
      c.type === 'categorical' && c.other.categories === 0 ? categoryText(c.sourceType) : undefined;
    const known =
      text && c.type === 'categorical'
        ? `[${c.categories.map((k) => sqlString(k.value)).join(', ')}]::VARCHAR[]`
        : 'NULL::VARCHAR[]';
    return `(${sqlString(f)}, ${lo}::DOUBLE, ${hi}::DOUBLE, ${known}, ${sqlString(text ?? '')})`;
  });
  const found = await offline.query<Row>(
    `WITH limits(col, lo, hi, known, kind) AS (VALUES ${limits.join(', ')}),
     j AS (SELECT l.*, w.col AS present, w.v, w.s,
                  CASE l.kind WHEN 'integer' THEN CAST(TRY_CAST(w.v AS BIGINT) AS VARCHAR)
                              WHEN 'boolean' THEN CASE w.v WHEN 1 THEN 'true' WHEN 0 THEN 'false' END
                              ELSE CAST(w.v AS VARCHAR) END AS text
           FROM limits l LEFT JOIN ${sqlIdent(table)} w ON w.col = l.col)
     SELECT col,
            count(present) AS n,
            count(present) FILTER (WHERE v IS NULL AND s IS NULL) AS nulls,
            count(v) FILTER (WHERE v < lo OR v > hi) AS outside,
            count(v) FILTER (WHERE known IS NOT NULL AND NOT list_contains(known, COALESCE(text, '')))
              AS unseen
     FROM j GROUP BY col`,
  );
  return Object.fromEntries(found.map((r) => [r.col, featureQuality(profile, r, rows)]));
}

function featureQuality(profile: BaselineProfile, r: Row, rows: number): FeatureQuality {
  const column = profile.columns[r.col]!;
  // A row whose features lacked the column counts as null for it, as a missing value would.
  const present = Number(r.n) - Number(r.nulls);
  const nullShare = (rows - present) / rows;
  const nulls: QualityCheck = {
    value: nullShare,
    baseline: column.nullShare,
    status: grade(nullShare - column.nullShare, QUALITY_RULES.nullShareWarning, QUALITY_RULES.nullShareFail),
  };
  const outOfRange =
    column.type === 'numerical' && column.min !== null && present > 0
      ? check(
          Number(r.outside) / present,
          null,
          QUALITY_RULES.outOfRangeWarning,
          QUALITY_RULES.outOfRangeFail,
        )
      : null;
  const unseen =
    column.type === 'categorical' &&
    column.other.categories === 0 &&
    categoryText(column.sourceType) &&
    present > 0
      ? check(Number(r.unseen) / present, null, 0, QUALITY_RULES.unseenFail)
      : null;
  const statuses = [nulls.status, outOfRange?.status, unseen?.status];
  const status = statuses.includes('fail') ? 'fail' : statuses.includes('warning') ? 'warning' : 'ok';
  return { rows, nullShare: nulls, outOfRange, unseenCategories: unseen, status };
}

/**
 * How a window's number is written as the baseline wrote the category: DuckDB's text of the
 * reference column's own type. Undefined when the window (numbers only) cannot be compared with it.
 */
function categoryText(sourceType: string): 'integer' | 'boolean' | 'double' | undefined {
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(sourceType)) {
    return 'integer';
  }
  if (sourceType === 'BOOLEAN') return 'boolean';
  if (sourceType === 'DOUBLE' || sourceType === 'FLOAT') return 'double';
  return undefined;
}

function check(value: number, baseline: number | null, warning: number, fail: number): QualityCheck {
  return { value, baseline, status: grade(value, warning, fail) };
}

/** `fail` above the fail bound, `warning` above the warning bound, else `ok`. */
function grade(excess: number, warning: number, fail: number): QualityStatus {
  if (excess > fail) return 'fail';
  return excess > warning ? 'warning' : 'ok';
}
