/**
 * One column of a window compared with its baseline, from what the window's SQL aggregated: the
 * same statistics, method choice and decisions as the in-memory report (./report.ts), fed with the
 * baseline's stored shape instead of a second dataset. Raw-value statistics (KS, Wasserstein) take
 * the baseline's sample; category statistics the baseline's category counts (numeric columns with
 * at most 20 distinct reference values: the sample's value counts, as report.ts bins them value by
 * value); PSI and Jensen–Shannon on other numeric columns the baseline's decile bins.
 */
import { invalidArgument } from '../../core/errors.js';
import type { ColumnProfile } from '../baseline/profile.js';
import { MAX_DISCRETE_VALUES } from '../stats/bins.js';
import { alignCounts, type Counts } from '../stats/categories.js';
import { chiSquareTest } from '../stats/chisquare.js';
import { jensenShannon } from '../stats/jensenshannon.js';
import { ks2samp } from '../stats/ks.js';
import { psi } from '../stats/psi.js';
import { normedWasserstein } from '../stats/wasserstein.js';
import { proportionsZTest } from '../stats/ztest.js';
import {
  DEFAULT_WARNING_FACTOR,
  defaultMethod,
  defaultThreshold,
  driftStatus,
  isDrifted,
  isTest,
  METHOD_TYPES,
} from './defaults.js';
import type { ColumnDrift, DriftMethod, StatisticResult } from './types.js';

/** How a column's window is aggregated: raw values, value counts, or bins over the baseline's cuts. */
export type ColumnShape = 'values' | 'counts' | 'bins';

/** What a column's comparison needs: its shape and (when known before the window is read) its method. */
export interface ColumnPlan {
  name: string;
  profile: ColumnProfile;
  /** Values and bins: a numeric column with more than 20 distinct reference values. */
  shape: ColumnShape;
  /** Fixed for value and bin columns; for count columns chosen once the union of categories is known. */
  method?: DriftMethod;
}

/** The aggregates a column was compared on. */
export interface ColumnInputs {
  /** The baseline's sample of a numeric column, sorted. */
  referenceValues?: Float64Array;
  /** The window's values of a `values` column, sorted. */
  currentValues?: Float64Array;
  referenceCounts?: Counts;
  currentCounts?: Counts;
  /** The window's counts over the baseline's bins. */
  currentBins?: number[];
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

/** Whether the numeric column is compared on raw values (continuous) rather than value counts. */
function isWide(profile: ColumnProfile): boolean {
  return profile.type === 'numerical' && (profile.distinctCapped || profile.distinct > MAX_DISCRETE_VALUES);
}

/** How the column is aggregated and, where the reference alone decides it, its method. */
export function planColumn(name: string, profile: ColumnProfile, override?: DriftMethod): ColumnPlan {
  if (override && !METHOD_TYPES[override].includes(profile.type)) {
    throw invalidArgument(
      `methods.${name}`,
      `${override} compares numbers but ${JSON.stringify(name)} is ${profile.type}`,
      'use chisquare, z, jensenshannon or psi for a categorical column',
    );
  }
  if (!isWide(profile)) return { name, profile, shape: 'counts', ...(override ? { method: override } : {}) };
  const method = override ?? defaultMethod('numerical', profile.count, profile.distinct);
  const shape: ColumnShape = method === 'psi' || method === 'jensenshannon' ? 'bins' : 'values';
  return { name, profile, shape, method };
}

/** Counts per distinct number, keyed by its text (as report.ts keys a numeric column's categories). */
export function numberCounts(sorted: Float64Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const x of sorted) counts.set(String(x), (counts.get(String(x)) ?? 0) + 1);
  return counts;
}

/** Sorted values expanded from counts keyed by number text. */
export function expandCounts(counts: Counts): Float64Array {
  const entries = [...counts].map(([k, n]) => [Number(k), n] as const).sort((a, b) => a[0] - b[0]);
  const out = new Float64Array(entries.reduce((s, [, n]) => s + n, 0));
  let i = 0;
  for (const [x, n] of entries) {
    out.fill(x, i, i + n);
    i += n;
  }
  return out;
}

function union(a: Counts, b: Counts): number {
  return new Set([...a.keys(), ...b.keys()]).size;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`window drift: ${what} was not aggregated`);
  return value;
}

/** The method of a count column, by the union of its reference and window categories. */
export function countMethod(plan: ColumnPlan, inputs: ColumnInputs): DriftMethod {
  const distinct = union(
    required(inputs.referenceCounts, 'reference counts'),
    required(inputs.currentCounts, 'window counts'),
  );
  const method = plan.method ?? defaultMethod(plan.profile.type, plan.profile.count, distinct);
  if (method === 'z' && distinct > 2) {
    throw invalidArgument(
      `methods.${plan.name}`,
      `the z-test compares two values but ${JSON.stringify(plan.name)} has ${distinct}`,
      'use chisquare, jensenshannon or psi',
    );
  }
  return method;
}

function countStatistic(
  method: DriftMethod,
  ref: Counts,
  cur: Counts,
  order?: typeof byNumber,
): StatisticResult {
  switch (method) {
    case 'ks':
      return ks2samp(expandCounts(ref), expandCounts(cur));
    case 'wasserstein':
      return normedWasserstein(expandCounts(ref), expandCounts(cur));
    case 'chisquare':
      return chiSquareTest(ref, cur, order);
    case 'z':
      return proportionsZTest(ref, cur, order);
    case 'jensenshannon':
    case 'psi': {
      const aligned = alignCounts(ref, cur, order);
      return method === 'psi'
        ? psi(aligned.reference, aligned.current)
        : jensenShannon(aligned.reference, aligned.current);
    }
  }
}

/** A value column's statistic; both samples arrive sorted, so neither is sorted again. */
function valueStatistic(method: DriftMethod, ref: Float64Array, cur: Float64Array): StatisticResult {
  if (method === 'ks') return ks2samp(ref, cur, true);
  if (method === 'wasserstein') return normedWasserstein(ref, cur, true);
  return countStatistic(method, numberCounts(ref), numberCounts(cur), byNumber);
}

function binStatistic(method: DriftMethod, profile: ColumnProfile, cur: number[]): StatisticResult {
  const ref = profile.type === 'numerical' ? (profile.bins?.counts ?? []) : [];
  return method === 'psi' ? psi(ref, cur) : jensenShannon(ref, cur);
}

function finite(score: number): number {
  if (Number.isFinite(score)) return score;
  return score > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

/** The column's drift, decided as report.ts decides it (threshold: the method's default unless given). */
export function compareColumn(
  plan: ColumnPlan,
  inputs: ColumnInputs,
  thresholdOverride?: number,
  warningFactor = DEFAULT_WARNING_FACTOR,
): ColumnDrift {
  const method = plan.shape === 'counts' ? countMethod(plan, inputs) : required(plan.method, 'method');
  const threshold = thresholdOverride ?? defaultThreshold(method);
  const order = plan.profile.type === 'numerical' ? byNumber : undefined;
  const { score, pValue } =
    plan.shape === 'values'
      ? valueStatistic(
          method,
          required(inputs.referenceValues, 'sample'),
          required(inputs.currentValues, 'window values'),
        )
      : plan.shape === 'bins'
        ? binStatistic(method, plan.profile, required(inputs.currentBins, 'window bins'))
        : countStatistic(
            method,
            required(inputs.referenceCounts, 'reference counts'),
            required(inputs.currentCounts, 'window counts'),
            order,
          );
  return {
    type: plan.profile.type,
    method,
    score: finite(score),
    pValue: isTest(method) ? pValue : null,
    threshold,
    drifted: isDrifted(method, score, pValue, threshold),
    status: driftStatus(method, score, pValue, threshold, warningFactor),
  };
}
