/**
 * XGBoost's linear booster (`booster="gblinear"`, and the logistic regressions Meridian's trainer
 * writes): reads its weights and computes margins with the float32 arithmetic of XGBoost 1.7's
 * `GBLinear::PredictRow`: bias + base margin, then `+= value * weight` per present feature, a
 * missing value (NaN) contributing nothing.
 */
import { z } from 'zod';
import { invalidArgument, type MeridianError } from '../../core/errors.js';

const FIELD = 'file';
const EXPECTED = 'expected an XGBoost JSON gblinear model as written by Booster.save_model("model.json")';

const gblinearSchema = z.object({
  learner: z.object({
    learner_model_param: z.object({ base_score: z.string(), num_class: z.string(), num_feature: z.string() }),
    objective: z.object({ name: z.string() }),
    gradient_booster: z.object({
      name: z.literal('gblinear'),
      model: z.object({ weights: z.array(z.number()) }),
    }),
    feature_names: z.array(z.string()).optional(),
  }),
});

/** A parsed and checked gblinear model. */
export interface XgboostLinearSpec {
  objective: string;
  baseScore: number;
  groups: number;
  featureCount: number;
  featureNames?: string[];
  /** Feature j's weight of group g at `j * groups + g`; the biases follow at `featureCount * groups + g`. */
  weights: Float32Array;
}

function bad(problem: string): MeridianError {
  return invalidArgument(FIELD, problem, EXPECTED);
}

/** Whether parsed JSON is a model of XGBoost's linear booster. */
export function isGblinear(json: unknown): boolean {
  const booster = (json as { learner?: { gradient_booster?: { name?: unknown } } } | null)?.learner
    ?.gradient_booster;
  return booster?.name === 'gblinear';
}

/** Validates parsed JSON as a gblinear model. */
export function readGblinearModel(json: unknown): XgboostLinearSpec {
  const parsed = gblinearSchema.safeParse(json);
  if (!parsed.success)
    throw bad(`malformed gblinear model (${z.prettifyError(parsed.error).split('\n')[0]})`);
  const l = parsed.data.learner;
  const featureCount = Number(l.learner_model_param.num_feature);
  const groups = Math.max(Number(l.learner_model_param.num_class), 1);
  const baseScore = Number(l.learner_model_param.base_score.replace(/^\[(.*)\]$/, '$1'));
  if (!Number.isInteger(featureCount) || featureCount < 1) throw bad('num_feature is not a positive count');
  if (!Number.isInteger(groups)) throw bad('num_class is not a count');
  if (!Number.isFinite(baseScore))
    throw bad(`base_score "${l.learner_model_param.base_score}" is not a number`);
  const weights = l.gradient_booster.model.weights;
  if (weights.length !== (featureCount + 1) * groups) {
    throw bad(`${weights.length} weights for ${featureCount} features (+ bias) and ${groups} outputs`);
  }
  const names = l.feature_names ?? [];
  if (names.length > 0 && names.length !== featureCount) {
    throw bad(`${names.length} feature_names for num_feature ${featureCount}`);
  }
  return {
    objective: l.objective.name,
    baseScore,
    groups,
    featureCount,
    ...(names.length > 0 ? { featureNames: names } : {}),
    weights: Float32Array.from(weights),
  };
}

/** Margins of `rows` row-major rows into `out` (`rows * groups`), starting from `baseMargin`. */
export function linearMargins(
  spec: XgboostLinearSpec,
  baseMargin: number,
  values: Float64Array | Float32Array,
  rows: number,
  out: Float32Array,
): void {
  const { featureCount: f, groups, weights } = spec;
  const base = Math.fround(baseMargin);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      let sum = Math.fround(weights[f * groups + g]! + base);
      for (let j = 0; j < f; j++) {
        const x = Math.fround(values[r * f + j]!);
        if (!Number.isNaN(x)) sum = Math.fround(sum + Math.fround(x * weights[j * groups + g]!));
      }
      out[r * groups + g] = sum;
    }
  }
}
