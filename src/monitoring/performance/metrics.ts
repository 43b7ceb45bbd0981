/**
 * A window's performance from its aggregated cells, defined as scikit-learn 1.2 defines them.
 * Classes are the union of true and predicted labels, sorted as numpy sorts them (numerically when
 * every label is a number, else as text). Binary (two probability columns, or at most two classes):
 * precision, recall and F1 of the positive class (1, true, or else the last class); ROC AUC from the
 * last probability (the positive class's, with classes in sorted order as scikit-learn and XGBoost
 * keep them) by the Mann-Whitney U statistic with tied scores given their average rank, which equals
 * the trapezoidal area under the ROC curve (`roc_auc_score`). Multiclass: macro averages over the
 * classes, no ROC AUC. A class never predicted (or never true) has precision (recall) 0, as
 * scikit-learn's zero_division default. Regression: MAE and RMSE.
 */
import type { PerformanceCell } from './query.js';

export type PerformanceTask = 'binary' | 'multiclass' | 'regression';

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Binary only, and only when both classes occur and every labelled row has a probability. */
  rocAuc: number | null;
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
}

export interface WindowMetrics {
  predictions: number;
  labelled: number;
  /** Labelled / predictions; null for an empty window. */
  labelledShare: number | null;
  /** Null when no prediction of the window has a label. */
  task: PerformanceTask | null;
  averaging: 'binary' | 'macro' | null;
  positiveLabel: string | null;
  classes: string[];
  metrics: Partial<ClassificationMetrics & RegressionMetrics>;
}

/** Labels sorted as numpy sorts them: numerically when all are numbers, else by code point. */
export function sortClasses(labels: Iterable<string>): string[] {
  const all = [...new Set(labels)];
  const numeric = all.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  return numeric
    ? all.sort((a, b) => Number(a) - Number(b))
    : all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The positive class of a binary problem: 1, true, or else the last class. */
export function positiveClass(classes: readonly string[]): string | null {
  if (classes.every((c) => c === '0' || c === '1')) return '1';
  if (classes.every((c) => c === 'false' || c === 'true')) return 'true';
  return classes.at(-1) ?? null;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

interface ClassCounts {
  tp: number;
  predicted: number;
  actual: number;
}

function countsByClass(
  cells: readonly PerformanceCell[],
  classes: readonly string[],
): Map<string, ClassCounts> {
  const counts = new Map(classes.map((c) => [c, { tp: 0, predicted: 0, actual: 0 }]));
  for (const cell of cells) {
    const actual = counts.get(cell.y!)!;
    const predicted = counts.get(cell.yhat!)!;
    actual.actual += cell.n;
    predicted.predicted += cell.n;
    if (cell.y === cell.yhat) actual.tp += cell.n;
  }
  return counts;
}

/** ROC AUC of `positive` from rank sums: U / (n1 n0), or null when it is undefined. */
export function rocAucFromRanks(cells: readonly PerformanceCell[], positive: string): number | null {
  let n1 = 0;
  let n = 0;
  let ranks1 = 0;
  for (const cell of cells) {
    if (cell.scored !== cell.n || cell.rankSum === null) return null;
    n += cell.n;
    if (cell.y === positive) {
      n1 += cell.n;
      ranks1 += cell.rankSum;
    }
  }
  const n0 = n - n1;
  if (n1 === 0 || n0 === 0) return null;
  return (ranks1 - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

function classification(
  cells: readonly PerformanceCell[],
): Omit<WindowMetrics, 'predictions' | 'labelled' | 'labelledShare'> {
  const classes = sortClasses(cells.flatMap((c) => [c.y!, c.yhat!]));
  const width = Math.max(0, ...cells.map((c) => c.classes ?? 0));
  const binary = width === 2 || (width <= 2 && classes.length <= 2);
  const counts = countsByClass(cells, classes);
  const total = cells.reduce((s, c) => s + c.n, 0);
  const correct = [...counts.values()].reduce((s, c) => s + c.tp, 0);
  const accuracy = ratio(correct, total);
  if (binary) {
    const positive = positiveClass(classes)!;
    const c = counts.get(positive) ?? { tp: 0, predicted: 0, actual: 0 };
    const precision = ratio(c.tp, c.predicted);
    const recall = ratio(c.tp, c.actual);
    const rocAuc = rocAucFromRanks(cells, positive);
    return {
      task: 'binary',
      averaging: 'binary',
      positiveLabel: positive,
      classes,
      metrics: { accuracy, precision, recall, f1: f1Of(precision, recall), rocAuc },
    };
  }
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  for (const c of counts.values()) {
    const p = ratio(c.tp, c.predicted);
    const r = ratio(c.tp, c.actual);
    precision += p;
    recall += r;
    f1 += f1Of(p, r);
  }
  const k = classes.length;
  return {
    task: 'multiclass',
    averaging: 'macro',
    positiveLabel: null,
    classes,
    metrics: { accuracy, precision: precision / k, recall: recall / k, f1: f1 / k, rocAuc: null },
  };
}

/** The window's labelled share and performance from its cells. */
export function windowMetrics(cells: readonly PerformanceCell[]): WindowMetrics {
  const predictions = cells.reduce((s, c) => s + c.n, 0);
  const labelledCells = cells.filter((c) => c.labelled);
  const labelled = labelledCells.reduce((s, c) => s + c.n, 0);
  const base = { predictions, labelled, labelledShare: predictions === 0 ? null : labelled / predictions };
  const classified = labelledCells.filter((c) => c.yhat !== null && c.y !== null);
  if (classified.length > 0) return { ...base, ...classification(classified) };
  const regressed = labelledCells.reduce((s, c) => s + c.regressed, 0);
  if (regressed > 0) {
    const abs = labelledCells.reduce((s, c) => s + (c.absErr ?? 0), 0);
    const sq = labelledCells.reduce((s, c) => s + (c.sqErr ?? 0), 0);
    return {
      ...base,
      task: 'regression',
      averaging: null,
      positiveLabel: null,
      classes: [],
      metrics: { mae: abs / regressed, rmse: Math.sqrt(sq / regressed) },
    };
  }
  return { ...base, task: null, averaging: null, positiveLabel: null, classes: [], metrics: {} };
}
