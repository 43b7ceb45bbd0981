/**
 * The train pipeline after fitting: register the candidate (once per run), score it and the
 * production version on the same holdout through the model server, store the candidate's baseline,
 * and promote it when it beats production by the margin. Canary deployments do not exist yet, so
 * "deploy" is a promotion; the decision and both scores are the step's checkpoint.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeridianError } from '../../core/errors.js';
import { evaluateBinary, evaluateRegression, splitByTime } from '../train/index.js';
import type { StepContext, StepOutput } from '../types.js';
import { platformApi } from './api.js';
import { withScratch, writeCsv } from './train-data.js';
import { describeModel, productionOf, type TrainingSpec } from './train-spec.js';
import { readDataset, runPath } from './train-steps.js';

interface Fit {
  model: string;
  inputs: string[];
  holdoutFrom: string;
  metrics: Record<string, unknown>;
}

/** What a fit answered: the built-in trainer's output, or a command's files and JSON line. */
export function fitOf(output: StepOutput, modelFile: string): Fit {
  if (typeof output.model === 'string') return output as unknown as Fit;
  const { files, inputs, holdoutFrom, ...metrics } = output as Record<string, unknown>;
  const model = (files as Record<string, unknown> | undefined)?.[modelFile];
  const named = Array.isArray(inputs) && inputs.length > 0 && inputs.every((i) => typeof i === 'string');
  if (typeof model !== 'string' || !named || Number.isNaN(Date.parse(String(holdoutFrom)))) {
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `step fit: its command must write ${modelFile} and print one JSON line with inputs (the model's input columns, in order) and holdoutFrom (the first holdout time, ISO 8601); it gave ${JSON.stringify(output).slice(0, 300)}`,
      { step: 'fit', field: 'steps.fit.command' },
    );
  }
  return { model, inputs: inputs as string[], holdoutFrom: String(holdoutFrom), metrics };
}

const versionPath = (model: string, version: number) =>
  `/v1/models/${encodeURIComponent(model)}/versions/${version}`;
const specOf = (ctx: StepContext) =>
  ctx.inputs['training-set'] as { spec: TrainingSpec; trainingSet: string };

/**
 * Pushes the fitted model as a staging version, unless an earlier attempt of this step already did;
 * `modelFile` names the model among a fit command's files.
 */
export async function registerCandidate(ctx: StepContext, modelFile = 'model.json'): Promise<StepOutput> {
  const { spec } = specOf(ctx);
  const fit = fitOf(ctx.inputs.fit ?? {}, modelFile);
  const described = await describeModel(ctx, spec.model);
  const existing = described?.versions.find((v) => v.metrics?.idempotencyKey === ctx.idempotencyKey);
  if (existing) return { version: existing.version, reused: true };
  const form = new FormData();
  form.append('format', 'xgboost');
  form.append('featureService', spec.featureService);
  form.append('inputs', fit.inputs.join(','));
  form.append('missing', JSON.stringify({ default: 'nan' }));
  const metrics = {
    ...fit.metrics,
    holdoutFrom: fit.holdoutFrom,
    training: spec,
    pipeline: ctx.pipeline,
    runId: ctx.runId,
    idempotencyKey: ctx.idempotencyKey,
  };
  form.append('metrics', JSON.stringify(metrics));
  form.append('createdBy', `pipeline ${ctx.pipeline} run ${ctx.runId}`);
  form.append('file', new Blob([await ctx.services.artifact.getBuffer(fit.model)]), 'model.json');
  const pushed = await platformApi(ctx).call<{ version: number }>(
    'POST',
    `/v1/models/${encodeURIComponent(spec.model)}/versions`,
    form,
  );
  ctx.logger.info({ model: spec.model, version: pushed.version }, 'candidate registered');
  return { version: pushed.version, reused: false };
}

/** The model's answers for row-major rows: class-1 probabilities or regression values. */
async function infer(
  ctx: StepContext,
  model: string,
  version: number,
  values: Float64Array,
  rows: number,
  binary: boolean,
): Promise<Float64Array> {
  const featureCount = rows === 0 ? 0 : values.length / rows;
  const output = binary ? 'probabilities' : 'predictions';
  const answer = await platformApi(ctx).call<{ outputs: { name: string; data: number[] }[] }>(
    'POST',
    `/v2/models/${encodeURIComponent(model)}/versions/${version}/infer`,
    {
      inputs: [{ name: 'input', datatype: 'FP64', shape: [rows, featureCount], data: Array.from(values) }],
      outputs: [{ name: output }],
    },
  );
  const data = answer.outputs.find((o) => o.name === output)?.data ?? [];
  return binary ? Float64Array.from({ length: rows }, (_, i) => data[i * 2 + 1]!) : Float64Array.from(data);
}

/** Rows of the given inputs, row-major, for the rows listed. */
function matrix(columns: Record<string, Float64Array>, inputs: string[], rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * inputs.length);
  rows.forEach((r, i) => {
    inputs.forEach((name, j) => {
      out[i * inputs.length + j] = columns[name]![r]!;
    });
  });
  return out;
}

async function scoreVersion(
  ctx: StepContext,
  version: { version: number; inputs?: string[] },
  fallbackInputs: string[],
) {
  const { spec, trainingSet } = specOf(ctx);
  const fit = ctx.inputs.fit as unknown as Fit;
  const inputs = version.inputs && version.inputs.length > 0 ? version.inputs : fallbackInputs;
  const data = await readDataset(ctx, trainingSet, spec, inputs);
  const { holdout } = splitByTime(data.times, { cutoff: Date.parse(fit.holdoutFrom) });
  const labels = Float64Array.from(holdout, (r) => data.labels[r]!);
  const binary = spec.objective === 'binary';
  const predicted = await infer(
    ctx,
    spec.model,
    version.version,
    matrix(data.columns, inputs, holdout),
    holdout.length,
    binary,
  );
  return binary
    ? { value: evaluateBinary(labels, predicted).auc, metric: 'auc' }
    : { value: evaluateRegression(labels, predicted).rmse, metric: 'rmse' };
}

/** The candidate's and the production version's score on the same holdout, through the model server. */
export async function evaluateAgainstProduction(ctx: StepContext): Promise<StepOutput> {
  const { spec } = specOf(ctx);
  const fit = ctx.inputs.fit as unknown as Fit;
  const { version } = ctx.inputs.register as { version: number };
  const production = productionOf(await describeModel(ctx, spec.model));
  const candidate = await scoreVersion(ctx, { version, inputs: fit.inputs }, fit.inputs);
  const incumbent =
    production && production.version !== version ? await scoreVersion(ctx, production, fit.inputs) : null;
  const out = {
    metric: candidate.metric,
    candidate: candidate.value,
    candidateVersion: version,
    production: incumbent?.value ?? null,
    productionVersion: production?.version ?? null,
  };
  ctx.logger.info(out, 'candidate evaluated against production');
  return out;
}

/** The candidate's baseline: its training rows' inputs and its own outputs on them. */
export async function storeBaseline(ctx: StepContext): Promise<StepOutput> {
  const { spec, trainingSet } = specOf(ctx);
  const fit = ctx.inputs.fit as unknown as Fit;
  const { version } = ctx.inputs.register as { version: number };
  const data = await readDataset(ctx, trainingSet, spec, fit.inputs);
  const { train } = splitByTime(data.times, { cutoff: Date.parse(fit.holdoutFrom) });
  const predicted = await infer(
    ctx,
    spec.model,
    version,
    matrix(data.columns, fit.inputs, train),
    train.length,
    spec.objective === 'binary',
  );
  return withScratch(async (db, dir) => {
    const rows = Array.from(train, (r, i) => ({
      ...Object.fromEntries(
        fit.inputs.map((name) => [
          name,
          Number.isNaN(data.columns[name]![r]!) ? null : data.columns[name]![r],
        ]),
      ),
      prediction: predicted[i],
    }));
    const file = join(dir, 'reference.csv');
    await writeCsv(db, rows, file);
    const form = new FormData();
    form.append('features', fit.inputs.join(','));
    form.append('prediction', 'prediction');
    form.append('file', new Blob([await readFile(file)]), 'reference.csv');
    await platformApi(ctx).call('PUT', `${versionPath(spec.model, version)}/baseline`, form);
    return { rows: rows.length, reference: runPath(ctx, 'reference.csv') };
  });
}

/** Promotes the candidate when it beats production by more than the margin (or there is none). */
export async function decide(ctx: StepContext): Promise<StepOutput> {
  const { spec } = specOf(ctx);
  const scores = ctx.inputs.evaluate as {
    metric: string;
    candidate: number | null;
    production: number | null;
    candidateVersion: number;
    productionVersion: number | null;
  };
  const margin = ctx.params.margin as number;
  const higherIsBetter = scores.metric === 'auc';
  const gain =
    scores.candidate === null || scores.production === null
      ? null
      : higherIsBetter
        ? scores.candidate - scores.production
        : scores.production - scores.candidate;
  const promote =
    scores.productionVersion === null ||
    scores.productionVersion === scores.candidateVersion ||
    (gain !== null && gain > margin);
  if (promote) {
    await platformApi(ctx).call('POST', `${versionPath(spec.model, scores.candidateVersion)}/stage`, {
      stage: 'production',
    });
  }
  const reason =
    scores.productionVersion === null
      ? 'no version was in production'
      : gain === null
        ? 'a score is undefined (one class in the holdout)'
        : `${scores.metric} ${gain >= 0 ? 'better' : 'worse'} by ${Math.abs(gain).toFixed(4)}, ${promote ? 'more' : 'not more'} than the margin ${margin}`;
  ctx.logger.info({ promote, reason }, 'decided');
  return { decision: promote ? 'promoted' : 'kept', reason, ...scores, margin };
}
