/**
 * What a train run trains: its parameters, with what they leave out taken from the model's
 * production version (the spec a train run registers with every version it creates), so a retrain
 * triggered by an alert needs only the model's name.
 */
import { invalidArgument } from '../../core/errors.js';
import type { StepContext } from '../types.js';
import { platformApi } from './api.js';
import type { ModelDescription, ModelVersion } from './rest-shapes.js';

export const ALGORITHMS = ['gbt', 'logistic'] as const;
export const OBJECTIVES = ['binary', 'regression'] as const;

export interface TrainingSpec {
  model: string;
  featureService: string;
  /** CSV or Parquet: entity keys, `event_timestamp` and the label column; a local path or `artifact:<path>`. */
  labels: string;
  labelColumn: string;
  algorithm: (typeof ALGORITHMS)[number];
  objective: (typeof OBJECTIVES)[number];
  holdoutFraction: number;
}

/** The model's versions, or none when it was never registered. */
export async function describeModel(ctx: StepContext, model: string): Promise<ModelDescription | null> {
  try {
    return await platformApi(ctx).call<ModelDescription>('GET', `/v1/models/${encodeURIComponent(model)}`);
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return null;
    throw err;
  }
}

/** The production version, if the model has one. */
export function productionOf(model: ModelDescription | null): ModelVersion | undefined {
  return model?.versions.find((v) => v.version === model.productionVersion);
}

/** The param, else the production version's registered value, else the default; a hint when none. */
function pick(param: string, registered: unknown, field: string, hint: string, fallback = ''): string {
  if (param !== '') return param;
  if (typeof registered === 'string' && registered !== '') return registered;
  if (fallback !== '') return fallback;
  throw invalidArgument(`params.${field}`, 'is empty and the production version does not say it', hint);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) {
    throw invalidArgument(`params.${field}`, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** The spec of this run: its params, completed from the production version's registered spec. */
export async function resolveSpec(ctx: StepContext): Promise<TrainingSpec> {
  const p = ctx.params as Record<string, string | number>;
  const model = String(p.model);
  const registered = (productionOf(await describeModel(ctx, model))?.metrics?.training ??
    {}) as Partial<TrainingSpec>;
  const fraction = Number(p.holdoutFraction);
  if (!(fraction > 0 && fraction < 1)) {
    throw invalidArgument('params.holdoutFraction', `${fraction} is not between 0 and 1`, 'use e.g. 0.2');
  }
  return {
    model,
    featureService: pick(
      String(p.featureService),
      registered.featureService,
      'featureService',
      'name the feature service the model reads',
    ),
    labels: pick(
      String(p.labels),
      registered.labels,
      'labels',
      'give a CSV or Parquet file of entity keys, event_timestamp and the label',
    ),
    labelColumn: pick(
      String(p.labelColumn),
      registered.labelColumn,
      'labelColumn',
      'name the label column',
      'label',
    ),
    algorithm: oneOf(
      pick(String(p.algorithm), registered.algorithm, 'algorithm', 'use gbt or logistic', 'gbt'),
      ALGORITHMS,
      'algorithm',
    ),
    objective: oneOf(
      pick(String(p.objective), registered.objective, 'objective', 'use binary or regression', 'binary'),
      OBJECTIVES,
      'objective',
    ),
    holdoutFraction: fraction,
  };
}
