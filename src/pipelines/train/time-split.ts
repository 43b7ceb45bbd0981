/**
 * Splits training rows by event time, so a model is evaluated on rows later than every row it was
 * fitted on: train = time < cutoff, holdout = time >= cutoff. The cutoff is given, or is the time of
 * the first holdout row when the latest `holdoutFraction` of rows is held out.
 */
import { invalidArgument } from '../../core/errors.js';
import type { TrainingSet } from './dataset.js';

export type SplitAt = { cutoff: number } | { holdoutFraction: number };

export interface TimeSplit {
  /** Row indices in their original order. */
  train: Int32Array;
  holdout: Int32Array;
  cutoff: number;
}

/** Splits rows by `times` (e.g. epoch milliseconds) at a cutoff or a holdout fraction. */
export function splitByTime(times: ArrayLike<number>, at: SplitAt): TimeSplit {
  for (let i = 0; i < times.length; i++) {
    if (!Number.isFinite(times[i])) {
      throw invalidArgument('eventTime', `row ${i} is ${times[i]}`, 'every row needs an event time');
    }
  }
  const cutoff = 'cutoff' in at ? checkedCutoff(at.cutoff) : fractionCutoff(times, at.holdoutFraction);
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < times.length; i++) (times[i]! < cutoff ? train : holdout).push(i);
  if (train.length === 0 || holdout.length === 0) {
    throw invalidArgument(
      'cutoff' in at ? 'cutoff' : 'holdoutFraction',
      `the split leaves ${train.length} training and ${holdout.length} holdout rows`,
      'choose a cutoff inside the range of event times',
    );
  }
  return { train: Int32Array.from(train), holdout: Int32Array.from(holdout), cutoff };
}

function checkedCutoff(cutoff: number): number {
  if (!Number.isFinite(cutoff)) throw invalidArgument('cutoff', `${cutoff} is not a time`);
  return cutoff;
}

function fractionCutoff(times: ArrayLike<number>, fraction: number): number {
  if (!(fraction > 0 && fraction < 1)) {
    throw invalidArgument('holdoutFraction', `${fraction} is not in (0, 1)`, 'use e.g. 0.2');
  }
  const sorted = Float64Array.from(times).sort();
  return sorted[Math.floor(sorted.length * (1 - fraction))] ?? Number.NaN;
}

/** The training set restricted to `rows`, in that order. */
export function selectRows(set: TrainingSet, rows: Int32Array): TrainingSet {
  const d = set.featureCount;
  const features = new Float64Array(rows.length * d);
  const labels = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    features.set(set.features.subarray(r * d, (r + 1) * d), i * d);
    labels[i] = set.labels[r]!;
  });
  return { ...set, features, rows: rows.length, labels };
}
