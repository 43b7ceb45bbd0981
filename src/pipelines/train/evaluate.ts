/**
 * Holdout metrics of the train pipeline, defined as scikit-learn 1.2 defines them: ROC AUC by the
 * Mann-Whitney U statistic with tied scores given their average rank (`roc_auc_score`), log loss
 * with probabilities clipped to [1e-15, 1 - 1e-15] (`log_loss`), accuracy of `p > 0.5`, RMSE, MAE.
 */
import { invalidArgument } from '../../core/errors.js';

export interface BinaryMetrics {
  rows: number;
  /** Null when the holdout has only one class. */
  auc: number | null;
  logloss: number;
  accuracy: number;
}

export interface RegressionMetrics {
  rows: number;
  rmse: number;
  mae: number;
}

const EPS = 1e-15;

function checkPair(labels: ArrayLike<number>, scores: ArrayLike<number>, name: string): void {
  if (labels.length !== scores.length) {
    throw invalidArgument(name, `${scores.length} values for ${labels.length} labels`, 'pass one per row');
  }
  if (labels.length === 0) throw invalidArgument('labels', 'no rows to evaluate', 'the holdout is empty');
}

/** AUC, log loss and accuracy of probabilities of class 1 against 0/1 labels. */
export function evaluateBinary(labels: ArrayLike<number>, probabilities: ArrayLike<number>): BinaryMetrics {
  checkPair(labels, probabilities, 'probabilities');
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, EPS), 1 - EPS);
    const y = labels[i]!;
    loss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    if (probabilities[i]! > 0.5 === (y === 1)) correct++;
  }
  return {
    rows: labels.length,
    auc: rocAuc(labels, probabilities),
    logloss: loss / labels.length,
    accuracy: correct / labels.length,
  };
}

/** RMSE and MAE of predictions. */
export function evaluateRegression(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
): RegressionMetrics {
  checkPair(labels, predictions, 'predictions');
  let squared = 0;
  let absolute = 0;
  for (let i = 0; i < labels.length; i++) {
    const e = predictions[i]! - labels[i]!;
    squared += e * e;
    absolute += Math.abs(e);
  }
  return { rows: labels.length, rmse: Math.sqrt(squared / labels.length), mae: absolute / labels.length };
}

/** ROC AUC from the rank sum of the positives, ties at their average rank; null with one class. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The metrics of a task: binary (probabilities of class 1) or regression (values). */
export function evaluate(
  task: 'binary' | 'regression',
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
): BinaryMetrics | RegressionMetrics {
  return task === 'binary' ? evaluateBinary(labels, predictions) : evaluateRegression(labels, predictions);
}
