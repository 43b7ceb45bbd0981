/**
 * The built-in `train` pipeline: a training set by the feature store's point-in-time retrieval from
 * a label source, a time split, a fit by the built-in trainer (gradient-boosted trees or logistic
 * regression, written as XGBoost JSON so the server loads it like any uploaded model), registration
 * with metrics and spec, a comparison with production on the same holdout, the baseline, and the
 * promotion if better by `margin`. Only `model` is required once a version was trained this way.
 * With `fit.command` the fit is the user's own training script instead (a command step): it reads
 * `{{inputs.training-set.files.training-set.csv}}`, writes its model file into `{{outputDir}}` and
 * prints one JSON line with `inputs` and `holdoutFrom` (and its metrics); the other steps are the same.
 */
import { invalidArgument } from '../../core/errors.js';
import { definePipeline } from '../define.js';
import type { Pipeline, Step } from '../types.js';
import { decide, evaluateAgainstProduction, registerCandidate, storeBaseline } from './train-publish.js';
import { buildTrainingSet, fitBuiltin } from './train-steps.js';

const TEN_MINUTES = 600_000;

/** The user's own training script as the fit step. */
export interface FitCommand {
  /** E.g. `python3 train.py --training-set {{inputs.training-set.files.training-set.csv}} --out-dir {{outputDir}}`. */
  command: string;
  /** Files it writes into `{{outputDir}}`; must include `model`. */
  outputs: readonly string[];
  /** The model file among them, registered in the XGBoost JSON format; default `model.json`. */
  model?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export interface TrainPipelineOptions {
  /** Default `train`. */
  name?: string;
  /** Fit with this command instead of the built-in trainer. */
  fit?: FitCommand;
}

function fitStep(fit: FitCommand | undefined): Step {
  if (!fit) return { name: 'fit', needs: ['training-set'], run: fitBuiltin, timeoutMs: TEN_MINUTES };
  const { model: _model, timeoutMs, ...command } = fit;
  return { name: 'fit', needs: ['training-set'], ...command, timeoutMs: timeoutMs ?? TEN_MINUTES };
}

/** `train`, or another configuration of it: another name, the user's own training command. */
export function trainPipeline(options: TrainPipelineOptions = {}): Pipeline {
  const name = options.name ?? 'train';
  const modelFile = options.fit?.model ?? 'model.json';
  if (options.fit && !options.fit.outputs.includes(modelFile)) {
    throw invalidArgument(
      'fit.outputs',
      `does not include the model file ${modelFile}`,
      `declare ${modelFile} among the command's outputs, or name the model file in fit.model`,
    );
  }
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
      fitStep(options.fit),
      { name: 'register', needs: ['training-set', 'fit'], run: (ctx) => registerCandidate(ctx, modelFile) },
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
