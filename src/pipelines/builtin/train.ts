/**
 * The built-in `train` pipeline: a training set by the feature store's point-in-time retrieval from
 * a label source, a time split, a fit by the built-in trainer (gradient-boosted trees or logistic
 * regression, written as XGBoost JSON so the server loads it like any uploaded model), registration
 * with metrics and spec, a comparison with production on the same holdout, the baseline, and the
 * promotion if better by `margin`. Only `model` is required once a version was trained this way.
 */
import { definePipeline } from '../define.js';
import type { Pipeline } from '../types.js';
import { decide, evaluateAgainstProduction, registerCandidate, storeBaseline } from './train-publish.js';
import { buildTrainingSet, fitBuiltin } from './train-steps.js';

const TEN_MINUTES = 600_000;

/** `train`, or another name for a second configuration of it. */
export function trainPipeline(name = 'train'): Pipeline {
  return definePipeline({
    name,
    description:
      'Train a model on point-in-time features, compare with production on the same holdout, promote if better',
    params: {
      model: { type: 'string', description: 'The model to train a new version of' },
      featureService: {
        type: 'string',
        default: '',
        description: "The feature service it reads (default: the production version's)",
      },
      labels: {
        type: 'string',
        default: '',
        description:
          'CSV or Parquet of entity keys, event_timestamp and the label; a path or artifact:<path>',
      },
      labelColumn: {
        type: 'string',
        default: '',
        description: 'The label column (default: the production version\'s, else "label")',
      },
      algorithm: {
        type: 'string',
        default: '',
        description: "gbt or logistic (default: the production version's, else gbt)",
      },
      objective: {
        type: 'string',
        default: '',
        description: "binary or regression (default: the production version's, else binary)",
      },
      holdoutFraction: {
        type: 'number',
        default: 0.2,
        description: 'The latest share of rows by event time held out',
      },
      margin: {
        type: 'number',
        default: 0,
        description: 'How much better than production the candidate must score to be promoted',
      },
      reason: { type: 'string', default: '', description: 'Why this run was started' },
      alert: { type: 'object', default: {}, description: 'The alert that started this run, when one did' },
    },
    steps: [
      { name: 'training-set', run: buildTrainingSet, timeoutMs: TEN_MINUTES },
      { name: 'fit', needs: ['training-set'], run: fitBuiltin, timeoutMs: TEN_MINUTES },
      { name: 'register', needs: ['training-set', 'fit'], run: registerCandidate },
      {
        name: 'evaluate',
        needs: ['training-set', 'fit', 'register'],
        run: evaluateAgainstProduction,
        timeoutMs: TEN_MINUTES,
      },
      {
        name: 'baseline',
        needs: ['training-set', 'fit', 'register'],
        run: storeBaseline,
        timeoutMs: TEN_MINUTES,
      },
      { name: 'decide', needs: ['training-set', 'evaluate', 'baseline'], run: decide },
    ],
  });
}
