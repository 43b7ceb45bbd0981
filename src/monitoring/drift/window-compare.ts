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
import { DEFAULT_WARNING_FACTOR } from './defaults.js';
import type { ColumnDrift } from './types.js';
import { binCountsOver, type ExtractedWindow, presentCounts, valueCounts } from './window-extract.js';
import type { WindowDriftOptions } from './window-job.js';
import {
  type ColumnInputs,
  type ColumnPlan,
  compareColumn,
  numberCounts,
  planColumn,
} from './window-statistic.js';
import { sampleValues, windowValues } from './window-values.js';

/** The key of the baseline's categories past its top ones. */
const OTHER = '\u0000other';

/** Milliseconds spent per phase of {@link compareWindow}, added to by each call. */
export interface PhaseTimes {
  plan: number;
  read: number;
  sort: number;
  aggregates: number;
  sample: number;
  statistics: number;
}

export interface ComparedWindow {
  columns: Record<string, ColumnDrift>;
  nulls: Record<string, number>;
  skipped: Record<string, string>;
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
  phases?: PhaseTimes,
): Promise<ComparedWindow> {
  let t = performance.now();
  const lap = (phase: keyof PhaseTimes) => {
    const now = performance.now();
    if (phases) phases[phase] += now - t;
    t = now;
  };
  const present = await presentCounts(offline, window);
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
  lap('plan');
  const samplePath = sampled.length > 0 ? await downloadSample() : undefined;
  const reference = samplePath
    ? await sampleValues(offline, samplePath, sampled, profile.sample.counts)
    : new Map<string, Float64Array>();
  lap('sample');
  const counts = await valueCounts(offline, window.table, countColumns);
  const bins = await binCountsOver(offline, window.table, cuts);
  lap('aggregates');
  const factor = options.warningFactor ?? DEFAULT_WARNING_FACTOR;
  const decide = (plan: ColumnPlan, inputs: ColumnInputs) =>
    compareColumn(plan, inputs, options.thresholds?.[plan.name], factor);
  const byName = new Map(plans.map((p) => [p.name, p]));
  const decided = new Map<string, ColumnDrift>();
  // Each value column is decided as soon as it is sorted, while DuckDB reads the next ones.
  const times = { read: 0, sort: 0, use: 0 };
  await windowValues(offline, window, valueColumns, times, (name, values) => {
    const inputs = { referenceValues: reference.get(name), currentValues: values };
    decided.set(name, decide(byName.get(name)!, inputs));
  });
  lap('read');
  if (phases) {
    phases.read -= times.sort + times.use;
    phases.sort += times.sort;
    phases.statistics += times.use;
  }
  for (const plan of plans) {
    const inputs: ColumnInputs = {};
    const sample = reference.get(plan.name);
    if (plan.shape === 'bins') {
      inputs.currentBins = bins.get(plan.name);
    } else if (plan.shape === 'counts') {
      inputs.referenceCounts =
        plan.profile.type === 'categorical'
          ? referenceCategories(plan.profile)
          : numberCounts(sample ?? new Float64Array(0));
      inputs.currentCounts = windowCounts(plan, counts.get(plan.name) ?? []);
    }
    out.columns[plan.name] = decided.get(plan.name) ?? decide(plan, inputs);
  }
  lap('statistics');
  return out;
}
