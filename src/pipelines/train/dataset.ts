/**
 * The trainer's input: a row-major feature matrix with one label per row, and the checks every
 * algorithm runs before fitting, so bad data fails with INVALID_ARGUMENT naming the field and the
 * row or column, never with NaN weights.
 */
import { invalidArgument } from '../../core/errors.js';

/** Features (row-major, `rows * featureCount`) and one label per row. */
export interface TrainingSet {
  features: Float64Array;
  rows: number;
  featureCount: number;
  labels: Float64Array;
  /** Column names in feature order; written into the model file. */
  featureNames?: string[];
}

/** What the labels must be. */
export type LabelKind = 'binary' | 'real';

/** What the features may hold: NaN as missing (trees learn a default branch) or finite values only. */
export type FeatureKind = 'missing-allowed' | 'finite';

/** Builds a training set from named columns of equal length. */
export function fromColumns(columns: Record<string, Float64Array>, labels: Float64Array): TrainingSet {
  const names = Object.keys(columns);
  if (names.length === 0) throw invalidArgument('columns', 'no feature columns', 'pass at least one column');
  const rows = labels.length;
  for (const name of names) {
    if (columns[name]!.length !== rows) {
      throw invalidArgument(
        `columns.${name}`,
        `${columns[name]!.length} values for ${rows} labels`,
        'every column needs one value per labelled row',
      );
    }
  }
  const featureCount = names.length;
  const features = new Float64Array(rows * featureCount);
  names.forEach((name, j) => {
    const column = columns[name]!;
    for (let r = 0; r < rows; r++) features[r * featureCount + j] = column[r]!;
  });
  return { features, rows, featureCount, labels, featureNames: names };
}

/** The name of column `j` in messages: its feature name, or its index. */
export function columnName(set: TrainingSet, j: number): string {
  return set.featureNames?.[j] ?? String(j);
}

/** Checks shapes, labels and features; throws INVALID_ARGUMENT naming the field. */
export function checkTrainingSet(set: TrainingSet, labels: LabelKind, features: FeatureKind): void {
  checkShape(set);
  checkLabels(set.labels, labels);
  checkFeatures(set, features);
}

function checkShape(set: TrainingSet): void {
  if (!Number.isInteger(set.rows) || set.rows < 2) {
    throw invalidArgument('rows', `${set.rows} rows`, 'a model needs at least two training rows');
  }
  if (!Number.isInteger(set.featureCount) || set.featureCount < 1) {
    throw invalidArgument('featureCount', `${set.featureCount} features`, 'pass at least one feature');
  }
  if (set.features.length !== set.rows * set.featureCount) {
    throw invalidArgument(
      'features',
      `${set.features.length} values for ${set.rows} rows of ${set.featureCount} features`,
      'pass a row-major matrix of rows * featureCount values',
    );
  }
  if (set.labels.length !== set.rows) {
    throw invalidArgument('labels', `${set.labels.length} labels for ${set.rows} rows`, 'pass one per row');
  }
  if (set.featureNames && set.featureNames.length !== set.featureCount) {
    throw invalidArgument(
      'featureNames',
      `${set.featureNames.length} names for ${set.featureCount} features`,
      'name every feature or none',
    );
  }
}

function checkLabels(labels: Float64Array, kind: LabelKind): void {
  let positives = 0;
  for (let r = 0; r < labels.length; r++) {
    const y = labels[r]!;
    if (!Number.isFinite(y)) {
      throw invalidArgument('labels', `row ${r} is ${y}`, 'drop rows without a label before training');
    }
    if (kind === 'binary' && y !== 0 && y !== 1) {
      throw invalidArgument('labels', `row ${r} is ${y}, not 0 or 1`, 'a binary classifier needs 0/1 labels');
    }
    positives += y;
  }
  if (kind === 'binary' && (positives === 0 || positives === labels.length)) {
    throw invalidArgument(
      'labels',
      `every label is ${positives === 0 ? 0 : 1}`,
      'a binary classifier needs both classes in its training rows',
    );
  }
}

function checkFeatures(set: TrainingSet, kind: FeatureKind): void {
  const { features, rows, featureCount: d } = set;
  for (let j = 0; j < d; j++) {
    let first = Number.NaN;
    let varies = false;
    for (let r = 0; r < rows; r++) {
      const x = features[r * d + j]!;
      if (Number.isNaN(x) && kind === 'missing-allowed') continue;
      if (!Number.isFinite(x)) {
        const fix = kind === 'finite' ? 'impute missing values first' : 'use NaN for a missing value';
        throw invalidArgument(`features.${columnName(set, j)}`, `row ${r} is ${x}`, fix);
      }
      if (Number.isNaN(first)) first = x;
      else if (x !== first) varies = true;
    }
    if (kind === 'finite' && !varies) {
      throw invalidArgument(
        `features.${columnName(set, j)}`,
        'the column is constant, so it cannot be standardised',
        'drop the column',
      );
    }
  }
}
