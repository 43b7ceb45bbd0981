/**
 * Training time of Meridian's built-in trainer against the libraries it is measured against, on
 * the trainer fixture (4000 training rows x 10 features, test/fixtures/trainer): boosted trees
 * (150 rounds, depth 5, eta 0.1, 256 bins) against xgboost 1.7's `xgb.train` with tree_method=hist
 * at nthread=1 and 2, and logistic regression (l2 = 1) against scikit-learn 1.2's
 * LogisticRegression(C=1) on the same standardised rows. Python runs in a `/usr/bin/python3`
 * subprocess timing only its fit calls; both sides report the median of BENCH_REPEATS runs
 * (default 7) after a warm-up, in wall-clock and CPU milliseconds (CPU time is less distorted on a
 * shared machine; xgboost's is summed over its threads). Run with `npx tsx bench/train.ts`.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingSet } from '../src/pipelines/train/dataset.js';
import { type TrainSpec, train } from '../src/pipelines/train/train.js';
import {
  readReference,
  readTrainerData,
  splitAsReference,
  TRAINER_FIXTURES,
} from '../test/pipelines/train-fixtures.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const PEER = resolve(dirname(fileURLToPath(import.meta.url)), 'peers/trainer_xgboost.py');

interface Time {
  wall: number;
  cpu: number;
}

interface PeerTimes {
  gbt: Record<'binary:logistic' | 'reg:squarederror', Record<'1' | '2', Time>>;
  logistic: Record<'lbfgs' | 'newton-cholesky', Time>;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function medianMs(run: () => unknown): Time {
  run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    run();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const ms = (n: number) => n.toFixed(n < 10 ? 1 : 0);
const cell = (t: Time) => `${ms(t.wall)} / ${ms(t.cpu)}`;
const ratio = (a: Time, b: Time) => `${(a.wall / b.wall).toFixed(2)}x / ${(a.cpu / b.cpu).toFixed(2)}x`;

function treeSpec(objective: 'binary:logistic' | 'reg:squarederror'): TrainSpec {
  const p = readReference().gbt.params;
  return {
    algorithm: 'gradient-boosted-trees',
    options: {
      objective,
      rounds: p.rounds,
      learningRate: p.eta,
      maxDepth: p.max_depth,
      minChildWeight: p.min_child_weight,
      lambda: p.lambda,
      maxBin: p.max_bin,
    },
  };
}

function peerTimes(): PeerTimes {
  const reference = readReference();
  const args = [
    PEER,
    join(TRAINER_FIXTURES, 'data.csv'),
    String(reference.split.cutoff),
    String(REPEATS),
    JSON.stringify(reference.gbt.params),
  ];
  return JSON.parse(execFileSync('/usr/bin/python3', args, { encoding: 'utf8' }));
}

function main(): void {
  const data = readTrainerData();
  const cls: TrainingSet = splitAsReference(data, data.classification).train;
  const reg: TrainingSet = splitAsReference(data, data.regression).train;
  const ours = {
    cls: medianMs(() => train(cls, treeSpec('binary:logistic'))),
    reg: medianMs(() => train(reg, treeSpec('reg:squarederror'))),
    lr: medianMs(() => train(cls, { algorithm: 'logistic-regression', options: { l2: 1 } })),
  };
  const peer = peerTimes();
  const p = readReference().gbt.params;
  console.log(`Training time, ${cls.rows} rows x ${cls.featureCount} features, median of ${REPEATS}`);
  console.log(`(ms wall / ms CPU; load average at the end ${loadavg()[0]!.toFixed(1)} on this machine)\n`);
  console.log(
    '| model | Meridian (TS, 1 thread) | xgboost nthread=1 | xgboost nthread=2 | vs nthread=1 | vs nthread=2 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [objective, mine] of [
    ['binary:logistic', ours.cls],
    ['reg:squarederror', ours.reg],
  ] as const) {
    const x = peer.gbt[objective];
    const name = `GBT ${objective}, ${p.rounds} rounds, depth ${p.max_depth}`;
    console.log(
      `| ${name} | ${cell(mine)} | ${cell(x['1'])} | ${cell(x['2'])} | ${ratio(mine, x['1'])} | ${ratio(mine, x['2'])} |`,
    );
  }
  const l = peer.logistic;
  console.log(
    '\n| model | Meridian (Newton) | sklearn lbfgs | sklearn newton-cholesky | vs lbfgs | vs newton-cholesky |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(
    `| logistic regression, l2 = 1 | ${cell(ours.lr)} | ${cell(l.lbfgs)} | ${cell(l['newton-cholesky'])} | ${ratio(ours.lr, l.lbfgs)} | ${ratio(ours.lr, l['newton-cholesky'])} |`,
  );
}

main();
