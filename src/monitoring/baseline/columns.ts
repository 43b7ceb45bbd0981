/**
 * Which columns of the reference dataset are profiled, in which role and as which type. Numeric
 * source types are numerical unless forced categorical; everything else (text, booleans, dates) is
 * categorical.
 */
import { invalidArgument } from '../../core/errors.js';
import type { ColumnType } from '../drift/types.js';
import { type ColumnRole, DEFAULT_SAMPLE_SEED, DEFAULT_SAMPLE_SIZE, MAX_SAMPLE_SIZE } from './profile.js';
import type { ReferenceColumn } from './reference.js';

/** How the upload names its columns; every field is optional. */
export interface ColumnChoice {
  /** Feature columns; default every column that is not the prediction or the label. */
  features?: string[];
  prediction?: string;
  label?: string;
  /** Columns profiled as categorical whatever their type. */
  categorical?: string[];
  /** Sampled values kept per numeric column (default DEFAULT_SAMPLE_SIZE). */
  sampleSize?: number | string;
  seed?: number | string;
}

export interface PlannedColumn extends ReferenceColumn {
  role: ColumnRole;
  type: ColumnType;
}

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;

function mustExist(field: string, name: string, names: Set<string>): void {
  if (!names.has(name)) {
    throw invalidArgument(
      field,
      `column ${JSON.stringify(name)} is not in the file`,
      `the file has ${[...names].map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
}

/** The profiled columns in file order; INVALID_ARGUMENT names the field whose column is missing. */
export function planColumns(columns: ReferenceColumn[], choice: ColumnChoice): PlannedColumn[] {
  const names = new Set(columns.map((c) => c.name));
  const { prediction, label } = choice;
  if (prediction !== undefined) mustExist('prediction', prediction, names);
  if (label !== undefined) mustExist('label', label, names);
  if (prediction !== undefined && prediction === label) {
    throw invalidArgument(
      'label',
      `is the prediction column ${JSON.stringify(label)}`,
      'name two different columns',
    );
  }
  for (const name of choice.features ?? []) mustExist('features', name, names);
  for (const name of choice.categorical ?? []) mustExist('categorical', name, names);
  for (const name of choice.features ?? []) {
    if (name === prediction || name === label) {
      throw invalidArgument(
        'features',
        `${JSON.stringify(name)} is also the prediction or label column`,
        'list it once',
      );
    }
  }
  const features = new Set(
    choice.features ?? columns.map((c) => c.name).filter((n) => n !== prediction && n !== label),
  );
  const forced = new Set(choice.categorical ?? []);
  const planned: PlannedColumn[] = [];
  for (const c of columns) {
    const role: ColumnRole | null =
      c.name === prediction
        ? 'prediction'
        : c.name === label
          ? 'label'
          : features.has(c.name)
            ? 'feature'
            : null;
    if (!role) continue;
    const type: ColumnType = NUMERIC.test(c.sourceType) && !forced.has(c.name) ? 'numerical' : 'categorical';
    planned.push({ ...c, role, type });
  }
  if (planned.length === 0) {
    throw invalidArgument(
      'features',
      'names no column to profile',
      'leave it out to profile every column, or name some',
    );
  }
  return planned;
}

/** The sample size asked for, checked; DEFAULT_SAMPLE_SIZE when absent. */
export function checkSampleSize(value: unknown): number {
  if (value === undefined) return DEFAULT_SAMPLE_SIZE;
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_SAMPLE_SIZE) {
    throw invalidArgument(
      'sampleSize',
      `${JSON.stringify(value)} is not a sample size`,
      `send a whole number from 1 to ${MAX_SAMPLE_SIZE}`,
    );
  }
  return n;
}

/** The sample seed asked for, checked; DEFAULT_SAMPLE_SEED when absent. */
export function checkSeed(value: unknown): number {
  if (value === undefined) return DEFAULT_SAMPLE_SEED;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1) {
    throw invalidArgument(
      'seed',
      `${JSON.stringify(value)} is not a seed`,
      `send a whole number from 0 to ${2 ** 31 - 1}`,
    );
  }
  return n;
}

/** A comma list as names, blanks dropped; undefined stays undefined. */
export function commaList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
