import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TrainedModel, train } from '../../src/pipelines/train/train.js';
import { readTrainerData, splitAsReference } from './train-fixtures.js';

// Debian's xgboost 1.7 loads each written file and predicts the given rows (NaN = missing).
const PYTHON = `
import json, sys
import numpy as np, xgboost as xgb
rows = np.array(json.load(open(sys.argv[1])), dtype=np.float64)
out = {}
for name in sys.argv[2:]:
    booster = xgb.Booster(model_file=name)
    out[name] = booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names)).astype(np.float64).tolist()
print(json.dumps(out))
`;

const dir = mkdtempSync(join(tmpdir(), 'meridian-trainer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model files written by the trainer, loaded by xgboost 1.7 itself', () => {
  it('predict in xgboost what the trainer predicts, to 1e-6', () => {
    const data = readTrainerData();
    const cls = splitAsReference(data, data.classification);
    const reg = splitAsReference(data, data.regression);
    const models: Record<string, TrainedModel> = {
      'gbt-binary.json': train(cls.train, {
        algorithm: 'gradient-boosted-trees',
        options: { objective: 'binary:logistic', rounds: 40 },
      }),
      'gbt-regression.json': train(reg.train, {
        algorithm: 'gradient-boosted-trees',
        options: { objective: 'reg:squarederror', rounds: 40 },
      }),
      'logistic.json': train(cls.train, { algorithm: 'logistic-regression' }),
    };
    const rows = 200;
    // The second half of the rows with every third value missing.
    const values = cls.holdout.features
      .slice(0, rows * cls.holdout.featureCount)
      .map((v, i) => (i >= rows * 5 && i % 3 === 0 ? Number.NaN : v));
    const nested = Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * 10, r * 10 + 10)));
    // JSON has no NaN: null, which numpy reads back as NaN.
    writeFileSync(join(dir, 'rows.json'), JSON.stringify(nested));
    const files = Object.keys(models).map((name) => join(dir, name));
    for (const [name, model] of Object.entries(models)) writeFileSync(join(dir, name), model.modelJson());
    const stdout = execFileSync('/usr/bin/python3', ['-c', PYTHON, join(dir, 'rows.json'), ...files], {
      encoding: 'utf8',
    });
    const theirs: Record<string, number[]> = JSON.parse(stdout);
    for (const [name, model] of Object.entries(models)) {
      const ours = model.predict(values, rows);
      const worst = Math.max(...theirs[join(dir, name)]!.map((v, i) => Math.abs(v - ours[i]!)));
      expect(worst, name).toBeLessThan(1e-6);
    }
  });
});
