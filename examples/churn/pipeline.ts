/**
 * `train-churn`: the built-in train pipeline with the churn example's own training script as its
 * fit step. The training set (point-in-time features of `churn_model` for a label file) is copied
 * to the worker and given to train.py, which writes model.json (XGBoost JSON, registered as the new
 * version) and reference.csv (its inputs and churn probability per row), and prints its metrics,
 * `inputs` and `holdoutFrom` as one JSON line; register, evaluate, baseline and decide are the
 * built-in steps. Load it with `pipelines.modules` (or `meridian worker --pipelines`) and trigger
 * it with `{"params": {"model": "churn", "featureService": "churn_model", "labels": "labels.csv"}}`.
 * The script needs Debian's python3-xgboost: CHURN_PYTHON names another interpreter that has it.
 */
import { trainPipeline } from '../../src/pipelines/builtin/train.js';

const PYTHON = process.env.CHURN_PYTHON ?? '/usr/bin/python3';

export const trainChurn = trainPipeline({
  name: 'train-churn',
  fit: {
    command: `${PYTHON} train.py --training-set {{inputs.training-set.files.training-set.csv}} --out-dir {{outputDir}} --seed 42`,
    cwd: import.meta.dirname,
    outputs: ['model.json', 'reference.csv'],
  },
});
