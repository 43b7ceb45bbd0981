/**
 * The drift report of two in-memory datasets, column by column: the ad-hoc `POST /v1/drift` and
 * `meridian drift` both answer it. Columns are those of `current` (each must be in `reference`;
 * columns only in `reference` are not compared). Nulls, NaN and ±Infinity are counted and excluded
 * from the statistics. Methods, thresholds and statuses follow ./defaults.ts; numeric columns are
 * binned for PSI and Jensen–Shannon as src/monitoring/stats/bins.ts states. Categories are compared
 * as text (a string as it is, any other value as its JSON), so 1 and "1" are one category; a
 * numerical column given a categorical method (chi-square, z) takes each distinct number as one.
 *
 * An infinite score (chi-square with a category the reference never saw) is answered as
 * ±Number.MAX_VALUE, because JSON has no infinity and a null score would break the contract.
 */
import { invalidArgument } from '../../core/errors.js';
import { numericBins } from '../stats/bins.js';
import { alignCounts, type Counts, countValues } from '../stats/categories.js';
import { chiSquareTest } from '../stats/chisquare.js';
import { jensenShannon } from '../stats/jensenshannon.js';
import { ks2samp } from '../stats/ks.js';
import { psi } from '../stats/psi.js';
import { normedWasserstein } from '../stats/wasserstein.js';
import { proportionsZTest } from '../stats/ztest.js';
import {
  DEFAULT_DATASET_DRIFT_SHARE,
  DEFAULT_WARNING_FACTOR,
  defaultMethod,
  defaultThreshold,
  driftStatus,
  inferColumnType,
  isDatasetDrift,
  isDrifted,
  isTest,
  METHOD_TYPES,
} from './defaults.js';
import type { ColumnDrift, ColumnType, DriftMethod, DriftReport, StatisticResult } from './types.js';

/** Columns by name, each an array of values (numbers, strings, booleans or null). */
export type Columns = Readonly<Record<string, readonly unknown[]>>;

/** Per-column overrides and report-wide settings; every field is optional. */
export interface DriftOptions {
  columnTypes?: Readonly<Record<string, ColumnType>>;
  methods?: Readonly<Record<string, DriftMethod>>;
  /** p-value thresholds for tests, distance thresholds for distances. */
  thresholds?: Readonly<Record<string, number>>;
  /** The share of drifted columns at which the dataset drifts (default 0.5). */
  datasetDriftShare?: number;
  /** How near the threshold a column is a warning (default 2, see ./defaults.ts). */
  warningFactor?: number;
}

/** Rows and nulls of one column in each sample. */
export interface ColumnCounts {
  referenceRows: number;
  currentRows: number;
  referenceNulls: number;
  currentNulls: number;
}

/** The report and the row and null counts behind it. */
export interface DriftAnalysis {
  report: DriftReport;
  counts: Record<string, ColumnCounts>;
}

/** One sample of a column with its nulls removed: numbers (numerical only) and category counts. */
interface Sample {
  numbers: Float64Array;
  /** Computed on first use: a numerical column needs them only for chi-square and the z-test. */
  keys: () => Counts;
  size: number;
  nulls: number;
}

/** `current.age`, or `current["unit price"]` for a name that is not an identifier. */
export function fieldPath(root: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${root}.${name}` : `${root}[${JSON.stringify(name)}]`;
}

/** The drift report of current against reference. */
export function driftReport(reference: Columns, current: Columns, options: DriftOptions = {}): DriftReport {
  return analyzeDrift(reference, current, options).report;
}

/** The drift report with each column's row and null counts. */
export function analyzeDrift(
  reference: Columns,
  current: Columns,
  options: DriftOptions = {},
): DriftAnalysis {
  const names = checkColumns(reference, current, options);
  const columns: Record<string, ColumnDrift> = {};
  const counts: Record<string, ColumnCounts> = {};
  for (const name of names) {
    const type = options.columnTypes?.[name] ?? inferColumnType(reference[name]!, current[name]!);
    const ref = sample('reference', name, reference[name]!, type);
    const cur = sample('current', name, current[name]!, type);
    columns[name] = columnDrift(name, type, ref, cur, options);
    counts[name] = {
      referenceRows: reference[name]!.length,
      currentRows: current[name]!.length,
      referenceNulls: ref.nulls,
      currentNulls: cur.nulls,
    };
  }
  const drifted = Object.values(columns).filter((c) => c.drifted).length;
  const driftShare = drifted / names.length;
  const datasetDrift = isDatasetDrift(driftShare, options.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE);
  return { report: { datasetDrift, driftShare, drifted, columns }, counts };
}

function checkColumns(reference: Columns, current: Columns, options: DriftOptions): string[] {
  const names = Object.keys(current);
  if (names.length === 0) {
    throw invalidArgument('current', 'has no columns', 'send at least one column: {"col": [values...]}');
  }
  for (const name of names) {
    if (!Object.hasOwn(reference, name)) {
      throw invalidArgument(
        fieldPath('current', name),
        'is not a column of reference',
        'add it to reference or remove it from current',
      );
    }
  }
  for (const key of ['columnTypes', 'methods', 'thresholds'] as const) {
    for (const name of Object.keys(options[key] ?? {})) {
      if (!Object.hasOwn(current, name)) {
        throw invalidArgument(
          fieldPath(key, name),
          'names no column of current',
          `use one of ${names.map((n) => JSON.stringify(n)).join(', ')}`,
        );
      }
    }
  }
  return names;
}

function isNull(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value));
}

function sample(
  side: 'reference' | 'current',
  name: string,
  values: readonly unknown[],
  type: ColumnType,
): Sample {
  let nulls = 0;
  const present: unknown[] = [];
  values.forEach((value, i) => {
    if (isNull(value)) nulls++;
    else if (type === 'numerical' && typeof value !== 'number') {
      throw invalidArgument(
        `${fieldPath(side, name)}[${i}]`,
        `is ${JSON.stringify(value)}, not a number, but the column is numerical`,
        `send numbers, or set ${fieldPath('columnTypes', name)} to "categorical"`,
      );
    } else present.push(value);
  });
  if (present.length === 0) {
    throw invalidArgument(
      fieldPath(side, name),
      values.length === 0 ? 'is empty' : `has only nulls (${nulls})`,
      'send at least one non-null value, or leave the column out of current',
    );
  }
  const size = present.length;
  if (type === 'numerical') {
    const numbers = Float64Array.from(present as number[]);
    let keys: Counts | undefined;
    return { numbers, keys: () => (keys ??= numberKeys(numbers)), size, nulls };
  }
  const keys = countValues(present.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
  return { numbers: new Float64Array(0), keys: () => keys, size, nulls };
}

/** Counts per distinct number, keyed by its text. */
function numberKeys(numbers: Float64Array): Counts {
  const byNumber = new Map<number, number>();
  for (const x of numbers) byNumber.set(x, (byNumber.get(x) ?? 0) + 1);
  const keys = new Map<string, number>();
  for (const [x, count] of byNumber) keys.set(String(x), count);
  return keys;
}

/** Distinct non-null values over both samples; numbers by sorting, which beats hashing them. */
function distinctValues(type: ColumnType, ref: Sample, cur: Sample): number {
  if (type === 'categorical') return new Set([...ref.keys().keys(), ...cur.keys().keys()]).size;
  const all = new Float64Array(ref.size + cur.size);
  all.set(ref.numbers);
  all.set(cur.numbers, ref.size);
  all.sort();
  let distinct = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) distinct++;
  return distinct;
}

function chooseMethod(name: string, type: ColumnType, ref: Sample, cur: Sample, options: DriftOptions) {
  const distinct = distinctValues(type, ref, cur);
  const method = options.methods?.[name] ?? defaultMethod(type, ref.size, distinct);
  const field = fieldPath('methods', name);
  if (!METHOD_TYPES[method].includes(type)) {
    throw invalidArgument(
      field,
      `${method} compares numbers but ${JSON.stringify(name)} is ${type}`,
      'use chisquare, z, jensenshannon or psi for a categorical column',
    );
  }
  if (method === 'z' && distinct > 2) {
    throw invalidArgument(
      field,
      `the z-test compares two values but ${JSON.stringify(name)} has ${distinct}`,
      'use chisquare, jensenshannon or psi',
    );
  }
  return method;
}

function threshold(name: string, method: DriftMethod, options: DriftOptions): number {
  const value = options.thresholds?.[name];
  if (value === undefined) return defaultThreshold(method);
  const ok = isTest(method) ? value > 0 && value <= 1 : value > 0;
  if (!ok) {
    throw invalidArgument(
      fieldPath('thresholds', name),
      `${value} is no threshold for ${method}`,
      isTest(method)
        ? 'a p-value threshold lies in (0, 1], e.g. 0.05'
        : 'a distance threshold is positive, e.g. 0.1',
    );
  }
  return value;
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

function statistic(method: DriftMethod, type: ColumnType, ref: Sample, cur: Sample): StatisticResult {
  const order = type === 'numerical' ? byNumber : undefined;
  switch (method) {
    case 'ks':
      return ks2samp(ref.numbers, cur.numbers);
    case 'wasserstein':
      return normedWasserstein(ref.numbers, cur.numbers);
    case 'chisquare':
      return chiSquareTest(ref.keys(), cur.keys(), order);
    case 'z':
      return proportionsZTest(ref.keys(), cur.keys(), order);
    case 'jensenshannon': {
      const bins = binned(type, ref, cur);
      return jensenShannon(bins.reference, bins.current);
    }
    case 'psi': {
      const bins = binned(type, ref, cur);
      return psi(bins.reference, bins.current);
    }
  }
}

function binned(type: ColumnType, ref: Sample, cur: Sample): { reference: number[]; current: number[] } {
  return type === 'numerical' ? numericBins(ref.numbers, cur.numbers) : alignCounts(ref.keys(), cur.keys());
}

function finite(score: number): number {
  if (Number.isFinite(score)) return score;
  return score > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

function columnDrift(
  name: string,
  type: ColumnType,
  ref: Sample,
  cur: Sample,
  options: DriftOptions,
): ColumnDrift {
  const method = chooseMethod(name, type, ref, cur, options);
  const limit = threshold(name, method, options);
  const { score, pValue } = statistic(method, type, ref, cur);
  const factor = options.warningFactor ?? DEFAULT_WARNING_FACTOR;
  return {
    type,
    method,
    score: finite(score),
    pValue: isTest(method) ? pValue : null,
    threshold: limit,
    drifted: isDrifted(method, score, pValue, limit),
    status: driftStatus(method, score, pValue, limit, factor),
  };
}
