/**
 * Label drift: the window's label distribution (labelled rows only) against the baseline's label
 * column, by Jensen-Shannon distance (base 2) at the distance threshold of 0.1. A categorical label
 * is compared over the baseline's top categories; window labels outside them fall into the
 * baseline's `other` bin when it has one, else each is its own bin (as POST /v1/drift takes the union
 * of categories). A numeric label is counted into the baseline's equal-frequency bins (right-closed).
 * Labels are compared as text: the baseline's VARCHAR cast of the value, the label's JSON text.
 */
import { isMeridianError } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { SqlExecutor } from '../../stores/state/port.js';
import { loadBaseline } from '../baseline/store.js';
import { defaultThreshold, driftStatus, isDrifted } from '../drift/defaults.js';
import type { ColumnDrift } from '../drift/types.js';
import { LABELS_TABLE, PREDICTIONS_TABLE } from '../labels/table.js';
import { jensenShannon } from '../stats/jensenshannon.js';

export interface LabelDrift extends ColumnDrift {
  /** The baseline's label column. */
  column: string;
  /** Labelled rows of the window compared. */
  windowLabels: number;
}

export interface LabelDriftResult {
  labelDrift: LabelDrift | null;
  /** Why there is no label drift, when there is none. */
  labelDriftSkipped: string | null;
}

const skipped = (reason: string): LabelDriftResult => ({ labelDrift: null, labelDriftSkipped: reason });

const WINDOW_LABELS = `
WITH l AS (
  SELECT request_id, "row", label FROM ${LABELS_TABLE} WHERE model = $1 AND version = $2
  QUALIFY row_number() OVER (PARTITION BY request_id, "row" ORDER BY received_at) = 1
)
SELECT json_extract_string(l.label, '$') AS y FROM ${PREDICTIONS_TABLE} p
JOIN l ON l.request_id = p.request_id AND l."row" = p."row"
WHERE p.model = $1 AND p.version = $2 AND p.time >= $3 AND p.time < $4`;

const CATEGORY_COUNTS = `SELECT y, count(*) AS n FROM (${WINDOW_LABELS}) GROUP BY y`;

const BIN_COUNTS = `SELECT len(list_filter($5::DOUBLE[], lambda c: c < v)) AS bin, count(*) AS n
FROM (SELECT TRY_CAST(y AS DOUBLE) AS v FROM (${WINDOW_LABELS})) WHERE isfinite(v) GROUP BY bin`;

type Counted = { y?: string | null; bin?: bigint | number; n: bigint };

/** The window's label drift against the baseline, or why it cannot be computed. */
export async function windowLabelDrift(
  deps: { offline: OfflineStore; state: SqlExecutor },
  model: string,
  version: number,
  from: Date,
  to: Date,
): Promise<LabelDriftResult> {
  let profile: Awaited<ReturnType<typeof loadBaseline>>;
  try {
    profile = await loadBaseline(deps.state, model, version);
  } catch (err) {
    if (isMeridianError(err, 'NOT_FOUND')) return skipped('the version has no baseline');
    throw err;
  }
  const column = profile.label ? profile.columns[profile.label] : undefined;
  if (!profile.label || !column) return skipped('the baseline has no label column');
  const params = [model, version, from, to];
  let reference: number[];
  let current: number[];
  if (column.type === 'categorical') {
    const rows = await deps.offline.query<Counted>(CATEGORY_COUNTS, params);
    const names = column.categories.map((c) => c.value);
    const index = new Map(names.map((name, i) => [name, i]));
    const hasOther = column.other.count > 0;
    reference = [...column.categories.map((c) => c.count), ...(hasOther ? [column.other.count] : [])];
    current = new Array(reference.length).fill(0);
    for (const row of rows) {
      if (row.y === null || row.y === undefined) continue;
      const i = index.get(row.y) ?? (hasOther ? names.length : undefined);
      if (i !== undefined) current[i]! += Number(row.n);
      else {
        reference.push(0);
        current.push(Number(row.n));
      }
    }
  } else {
    if (!column.bins) return skipped('the baseline label column has no values');
    const rows = await deps.offline.query<Counted>(BIN_COUNTS, [...params, column.bins.cuts]);
    reference = column.bins.counts.slice();
    current = new Array(reference.length).fill(0);
    for (const row of rows) current[Number(row.bin)]! += Number(row.n);
  }
  const windowLabels = current.reduce((s, n) => s + n, 0);
  if (windowLabels === 0) return skipped('no labelled prediction in the window');
  const method = 'jensenshannon';
  const threshold = defaultThreshold(method);
  const { score } = jensenShannon(reference, current);
  return {
    labelDrift: {
      column: profile.label,
      windowLabels,
      type: column.type,
      method,
      score,
      pValue: null,
      threshold,
      drifted: isDrifted(method, score, null, threshold),
      status: driftStatus(method, score, null, threshold),
    },
    labelDriftSkipped: null,
  };
}
