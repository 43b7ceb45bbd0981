/**
 * The built-in `drift-check` pipeline: the monitor's window drift, on demand, for every production
 * model (or the one named), over [logicalDate - windowMs, logicalDate). Its checkpoint keeps each
 * version's score per expected feature. A feature over its threshold queues the `train` pipeline of
 * every production model whose inputs include it, with the same logical date, so a retried step or
 * a second drift-check of the same window queues nothing twice (the run key dedups).
 */
import { definePipeline } from '../define.js';
import type { Pipeline, StepContext, StepOutput } from '../types.js';
import { platformApi } from './api.js';
import type { ModelSummary, ModelVersion, TriggerAnswer, WindowDrift } from './rest-shapes.js';

interface CheckedModel {
  version: number;
  inputs: string[];
  status: WindowDrift['status'];
  rows: number;
  datasetDrift: boolean | null;
  features: Record<string, { score: number; method: string; threshold: number; drifted: boolean }>;
  drifted: string[];
}

const path = (name: string, version: number) => `/v1/models/${encodeURIComponent(name)}/versions/${version}`;

async function productionVersions(ctx: StepContext): Promise<ModelVersion[]> {
  const api = platformApi(ctx);
  const wanted = ctx.params.model as string;
  const { models } = await api.call<{ models: ModelSummary[] }>('GET', '/v1/models');
  const production = models.filter((m) => m.productionVersion && (!wanted || m.name === wanted));
  return Promise.all(
    production.map((m) => api.call<ModelVersion>('GET', path(m.name, m.productionVersion!))),
  );
}

async function checkOne(ctx: StepContext, version: ModelVersion, from: Date): Promise<CheckedModel> {
  const drift = await platformApi(ctx).call<WindowDrift>(
    'POST',
    `${path(version.name, version.version)}/drift`,
    {
      from: from.toISOString(),
      to: ctx.logicalDate.toISOString(),
    },
  );
  const features: CheckedModel['features'] = {};
  for (const [name, c] of Object.entries(drift.columns)) {
    features[name] = { score: c.score, method: c.method, threshold: c.threshold, drifted: c.drifted };
  }
  return {
    version: version.version,
    inputs: version.inputs ?? [],
    status: drift.status,
    rows: drift.rows,
    datasetDrift: drift.datasetDrift,
    features,
    drifted: Object.keys(features).filter((f) => features[f]!.drifted),
  };
}

async function check(ctx: StepContext): Promise<StepOutput> {
  const from = new Date(ctx.logicalDate.getTime() - (ctx.params.windowMs as number));
  const models: Record<string, CheckedModel> = {};
  for (const version of await productionVersions(ctx)) {
    try {
      models[version.name] = await checkOne(ctx, version, from);
    } catch (err) {
      // A model without a baseline cannot be checked; the others still are.
      ctx.logger.warn(
        { model: version.name, version: version.version, err: (err as Error).message },
        'drift not checked',
      );
    }
  }
  const drifted = [...new Set(Object.values(models).flatMap((m) => m.drifted))].sort();
  ctx.logger.info({ models: Object.keys(models).length, drifted }, 'drift checked');
  return { window: { from: from.toISOString(), to: ctx.logicalDate.toISOString() }, models, drifted };
}

async function queueRetrain(ctx: StepContext): Promise<StepOutput> {
  const { models, drifted } = ctx.inputs.check as { models: Record<string, CheckedModel>; drifted: string[] };
  const pipeline = ctx.params.trainPipeline as string;
  const triggered: { model: string; features: string[]; runId: string; created: boolean }[] = [];
  if (!ctx.params.retrain || drifted.length === 0) return { triggered };
  for (const version of await productionVersions({ ...ctx, params: { ...ctx.params, model: '' } })) {
    const features = (version.inputs ?? []).filter((f) => drifted.includes(f));
    if (features.length === 0) continue;
    const run = await platformApi(ctx).call<TriggerAnswer>(
      'POST',
      `/v1/pipelines/${encodeURIComponent(pipeline)}/runs`,
      {
        params: { model: version.name, reason: `drift-check ${ctx.runId}: ${features.join(', ')} drifted` },
        logicalDate: ctx.logicalDate.toISOString(),
      },
    );
    triggered.push({ model: version.name, features, runId: run.runId, created: run.created });
  }
  ctx.logger.info({ triggered: triggered.length, checked: Object.keys(models).length }, 'retraining queued');
  return { triggered };
}

/** `drift-check`: check, then queue retraining for the models that use a drifted feature. */
export function driftCheckPipeline(): Pipeline {
  return definePipeline({
    name: 'drift-check',
    description:
      'Window drift of production models; a drifted feature queues the train pipeline of every production model that uses it',
    params: {
      model: { type: 'string', default: '', description: 'Only this model (default every production model)' },
      windowMs: { type: 'integer', default: 3_600_000, description: 'The window before the logical date' },
      retrain: { type: 'boolean', default: true, description: 'Queue retraining for drifted features' },
      trainPipeline: { type: 'string', default: 'train', description: 'The pipeline that retrains a model' },
    },
    steps: [
      { name: 'check', run: check },
      { name: 'queue-retrain', needs: ['check'], run: queueRetrain },
    ],
  });
}
