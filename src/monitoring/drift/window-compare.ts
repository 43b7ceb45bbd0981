/**
 * Compares an extracted window with a baseline column by column: plans each column's aggregate
 * (./window-statistic.ts), runs one aggregate query per kind over all columns of that kind (sorted
 * values, value counts, bin counts), reads the baseline's sample only when a numeric column needs it,
 * and decides each column. Categories of a categorical feature logged as numbers are matched to the
 * baseline's text (`1` or `1.0`, as DuckDB wrote the reference's integers or doubles); window
 * categories outside the baseline's top categories count as its `other` bucket when it has one.
 */
import { invalidArgument } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { BaselineProfile, CategoricalColumnProfile } from '../baseline/profile.js';
import { sqlIdent, sqlString } from '../baseline/reference.js';
import { DEFAULT_WARNING_FACTOR } from './defaults.js';
import type { ColumnDrift } from './types.js';
import {
  binCountsOver,
  type ExtractedWindow,
  parquetSource,
  presentCounts,
  tableSource,
  valueCounts,
} from './window-extract.js';
import type { WindowDriftOptions } from './window-job.js';
import {
  type ColumnInputs,
  type ColumnPlan,
  compareColumn,
  numberCounts,
  planColumn,
} from './window-statistic.js';

/** The key of the baseline's categories past its top ones. */
const OTHER = '\u0000other';

export interface ComparedWindow {
  columns: Record<string, ColumnDrift>;
  nulls: Record<string, number>;
  skipped: Record<string, string>;
}

/**
 * The non-null values of each listed column, sorted ascending, read column-wise (`queryColumns`):
 * DuckDB only filters, JS buckets the values by column (stable) and sorts a bucket only when it is
 * not sorted already (the baseline's sample is stored sorted, so it is never sorted again). Measured
 * on 2 shared cores (bench/drift.ts): the 5M values of a 100k-row sample in 1.4 s; the 50M of a
 * 1M-row window in 23 s, most of it moving 2048-row chunks out of DuckDB and sorting in JS.
 */
export async function sortedColumns(
  offline: OfflineStore,
  source: string,
  columns: readonly string[],
  names: { col: string; value: string } = { col: 'col', value: 'v' },
): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>(columns.map((c) => [c, new Float64Array(0)]));
  if (columns.length === 0) return out;
  const col = sqlIdent(names.col);
  const value = sqlIdent(names.value);
  // A hash join on the names: list_position per row compared each value's name with up to all names.
  const listed = `[${columns.map(sqlString).join(', ')}]::VARCHAR[]`;
  const read = await offline.queryColumns(
    `SELECT k.i, s.${value}::DOUBLE AS v FROM ${source} s
     JOIN (SELECT unnest(${listed}) AS name, (generate_subscripts(${listed}, 1) - 1)::INTEGER AS i) k
     ON s.${col} = k.name WHERE s.${value} IS NOT NULL`,
  );
  const buckets = bucketBy(read.i as Float64Array, read.v as Float64Array, columns.length);
  columns.forEach((name, k) => {
    const bucket = buckets[k] ?? new Float64Array(0);
    out.set(name, isSorted(bucket) ? bucket : bucket.sort());
  });
  return out;
}

/** Values grouped by their index in [0, groups), each group in its original order. */
function bucketBy(index: Float64Array, values: Float64Array, groups: number): Float64Array[] {
  const starts = new Float64Array(groups + 1);
  for (let r = 0; r < index.length; r++) starts[index[r]! + 1]!++;
  for (let k = 0; k < groups; k++) starts[k + 1]! += starts[k]!;
  const all = new Float64Array(values.length);
  const next = starts.slice(0, groups);
  for (let r = 0; r < index.length; r++) all[next[index[r]!]!++] = values[r]!;
  return Array.from({ length: groups }, (_, k) => all.subarray(starts[k], starts[k + 1]));
}

function isSorted(values: Float64Array): boolean {
  for (let r = 1; r < values.length; r++) if (values[r - 1]! > values[r]!) return false;
  return true;
}

function referenceCategories(profile: CategoricalColumnProfile): Map<string, number> {
  const counts = new Map(profile.categories.map((c) => [c.value, c.count]));
  if (profile.other.count > 0) counts.set(OTHER, profile.other.count);
  return counts;
}

function categoryKey(known: ReadonlyMap<string, number>, v: number | null, s: string | null): string {
  const candidates =
    s !== null ? [s] : v === null ? [] : [String(v), Number.isInteger(v) ? v.toFixed(1) : ''];
  const key = candidates.find((c) => known.has(c)) ?? candidates[0] ?? '';
  return known.has(key) || !known.has(OTHER) ? key : OTHER;
}

function windowCounts(plan: ColumnPlan, rows: { v: number | null; s: string | null; n: number }[]) {
  const counts = new Map<string, number>();
  const known = plan.profile.type === 'categorical' ? referenceCategories(plan.profile) : new Map();
  for (const r of rows) {
    const key = plan.profile.type === 'numerical' ? String(r.v) : categoryKey(known, r.v, r.s);
    counts.set(key, (counts.get(key) ?? 0) + r.n);
  }
  return counts;
}

function checkOverrides(names: readonly string[], options: WindowDriftOptions): void {
  for (const key of ['methods', 'thresholds'] as const) {
    for (const name of Object.keys(options[key] ?? {})) {
      if (!names.includes(name)) {
        throw invalidArgument(
          `${key}.${name}`,
          'names no column of the baseline',
          `use one of ${names.map((n) => JSON.stringify(n)).join(', ')}`,
        );
      }
    }
  }
}

function planAll(
  profile: BaselineProfile,
  present: Map<string, number>,
  rows: number,
  options: WindowDriftOptions,
) {
  const out: ComparedWindow = { columns: {}, nulls: {}, skipped: {} };
  const plans: ColumnPlan[] = [];
  const names = profile.prediction ? [...profile.features, profile.prediction] : [...profile.features];
  checkOverrides(names, options);
  for (const name of names) {
    const column = profile.columns[name];
    const n = present.get(name) ?? 0;
    if (!column || column.count === 0) out.skipped[name] = 'the baseline has no value of it';
    else if (n === 0) out.skipped[name] = 'the window has no value of it';
    else {
      out.nulls[name] = rows - n;
      plans.push(planColumn(name, column, options.methods?.[name]));
    }
  }
  return { out, plans };
}

/** The window's drift per column of the baseline (features, then the prediction output). */
export async function compareWindow(
  offline: OfflineStore,
  window: ExtractedWindow,
  profile: BaselineProfile,
  downloadSample: () => Promise<string>,
  options: WindowDriftOptions,
): Promise<ComparedWindow> {
  const present = await presentCounts(offline, window.table);
  const { out, plans } = planAll(profile, present, window.rows, options);
  const named = (pred: (p: ColumnPlan) => boolean) => plans.filter(pred).map((p) => p.name);
  const valueColumns = named((p) => p.shape === 'values');
  const countColumns = named((p) => p.shape === 'counts');
  const sampled = named((p) => p.profile.type === 'numerical' && p.shape !== 'bins');
  const cuts = new Map(
    plans.flatMap((p) =>
      p.shape === 'bins' && p.profile.type === 'numerical'
        ? [[p.name, p.profile.bins?.cuts ?? []] as const]
        : [],
    ),
  );
  const source = tableSource(window.table);
  const current = await sortedColumns(offline, source, valueColumns);
  const counts = await valueCounts(offline, window.table, countColumns);
  const bins = await binCountsOver(offline, window.table, cuts);
  const samplePath = sampled.length > 0 ? await downloadSample() : undefined;
  const reference = samplePath
    ? await sortedColumns(offline, parquetSource(samplePath), sampled, { col: 'column', value: 'value' })
    : new Map<string, Float64Array>();
  for (const plan of plans) {
    const inputs: ColumnInputs = {};
    const sample = reference.get(plan.name);
    if (plan.shape === 'values') {
      inputs.referenceValues = sample;
      inputs.currentValues = current.get(plan.name);
    } else if (plan.shape === 'bins') {
      inputs.currentBins = bins.get(plan.name);
    } else {
      inputs.referenceCounts =
        plan.profile.type === 'categorical'
          ? referenceCategories(plan.profile)
          : numberCounts(sample ?? new Float64Array(0));
      inputs.currentCounts = windowCounts(plan, counts.get(plan.name) ?? []);
    }
    const factor = options.warningFactor ?? DEFAULT_WARNING_FACTOR;
    out.columns[plan.name] = compareColumn(plan, inputs, options.thresholds?.[plan.name], factor);
  }
  return out;
}
