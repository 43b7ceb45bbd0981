/**
 * The trainer's reference data (test/fixtures/trainer, written by
 * scripts/fixtures/trainer_reference.py): the CSV as training sets split by event time as the
 * reference split it, and the libraries' results on them.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingSet } from '../../src/pipelines/train/dataset.js';
import { selectRows, splitByTime } from '../../src/pipelines/train/time-split.js';

export const TRAINER_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/trainer');

export interface LogisticReference {
  l2: number;
  coefStandardised: number[];
  interceptStandardised: number;
  coefRaw: number[];
  interceptRaw: number;
  holdout: { auc: number; logloss: number; accuracy: number };
}

export interface TrainerReference {
  split: { holdoutFraction: number; cutoff: number; trainRows: number; holdoutRows: number };
  logistic: LogisticReference[];
  gbt: {
    params: {
      max_depth: number;
      eta: number;
      min_child_weight: number;
      lambda: number;
      max_bin: number;
      rounds: number;
    };
    classification: { auc: number; logloss: number; accuracy: number };
    regression: { rmse: number; mae: number };
  };
}

export interface TrainerData {
  eventTime: Float64Array;
  classification: TrainingSet;
  regression: TrainingSet;
}

/** The fixture CSV: event_time, x0..x9, y_class, y_reg. */
export function readTrainerData(): TrainerData {
  const lines = readFileSync(resolve(TRAINER_FIXTURES, 'data.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const featureNames = header.slice(1, -2);
  const d = featureNames.length;
  const rows = lines.length - 1;
  const eventTime = new Float64Array(rows);
  const features = new Float64Array(rows * d);
  const yClass = new Float64Array(rows);
  const yReg = new Float64Array(rows);
  lines.slice(1).forEach((line, r) => {
    const cells = line.split(',').map(Number);
    eventTime[r] = cells[0]!;
    for (let j = 0; j < d; j++) features[r * d + j] = cells[1 + j]!;
    yClass[r] = cells[1 + d]!;
    yReg[r] = cells[2 + d]!;
  });
  const base = { features, rows, featureCount: d, featureNames };
  return { eventTime, classification: { ...base, labels: yClass }, regression: { ...base, labels: yReg } };
}

export function readReference(): TrainerReference {
  return JSON.parse(readFileSync(resolve(TRAINER_FIXTURES, 'reference.json'), 'utf8'));
}

/** A set split into train and holdout as the reference split it: the latest 20% by event time held out. */
export function splitAsReference(
  data: TrainerData,
  set: TrainingSet,
): { train: TrainingSet; holdout: TrainingSet; cutoff: number } {
  const split = splitByTime(data.eventTime, { holdoutFraction: readReference().split.holdoutFraction });
  return {
    train: selectRows(set, split.train),
    holdout: selectRows(set, split.holdout),
    cutoff: split.cutoff,
  };
}
