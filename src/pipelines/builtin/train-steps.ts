/**
 * The steps of the train pipeline. Each is idempotent under retry: artifacts are written under the
 * run's own paths, the version is registered once per run (found again by the step's idempotency
 * key), and the decision reads the registry before promoting.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '../../core/errors.js';
import { MeridianClient } from '../../sdk/client.js';
import {
  evaluateBinary,
  evaluateRegression,
  fromColumns,
  selectRows,
  splitByTime,
  train,
} from '../train/index.js';
import type { StepContext, StepOutput } from '../types.js';
import {
  column,
  describeSource,
  download,
  fileSource,
  jsonRows,
  numericColumns,
  withScratch,
  writeCsv,
} from './train-data.js';
import { resolveSpec, type TrainingSpec } from './train-spec.js';

/** The training set's file name among the training-set step's `files` (what a fit command reads). */
export const TRAINING_SET_FILE = 'training-set.csv';

/** The column of the baseline's reference file holding the model's output. */
export const PREDICTION_COLUMN = 'prediction';

export const runPath = (ctx: StepContext, file: string) => `Runs/${ctx.pipeline}/${ctx.runId}/${file}`;

async function labelFile(ctx: StepContext, labels: string, dir: string): Promise<string> {
  if (!labels.startsWith('artifact:')) return labels;
  const path = labels.slice('artifact:'.length);
  return download(ctx.services.artifact, path, dir, path.split('/').pop() ?? 'labels');
}

/** Point-in-time features for every labelled row, the label put back beside them by position. */
export async function buildTrainingSet(ctx: StepContext): Promise<StepOutput> {
  const spec = await resolveSpec(ctx);
  return withScratch(async (db, dir) => {
    const source = fileSource(await labelFile(ctx, spec.labels, dir));
    const columns = (await describeSource(db, source)).map((c) => c.name);
    for (const needed of ['event_timestamp', spec.labelColumn]) {
      if (!columns.includes(needed)) {
        throw invalidArgument(
          'params.labels',
          `${spec.labels} has no column ${needed}`,
          `its columns are ${columns.join(', ')}`,
        );
      }
    }
    const keys = columns.filter((c) => c !== 'event_timestamp' && c !== spec.labelColumn);
    const labelled = await jsonRows(
      db,
      `SELECT * FROM ${source} WHERE ${column(spec.labelColumn)} IS NOT NULL`,
    );
    const entities = labelled.map((r) => ({
      ...Object.fromEntries(keys.map((k) => [k, r[k]])),
      event_timestamp: r.event_timestamp,
    }));
    const client = new MeridianClient({ url: ctx.services.apiUrl, timeoutMs: 600_000 });
    const answer = (await client.getHistoricalFeatures(entities as never, {
      featureService: spec.featureService,
    })) as Record<string, unknown>[];
    const rows = answer.map((row, i) => ({ ...row, [spec.labelColumn]: labelled[i]![spec.labelColumn] }));
    const file = join(dir, TRAINING_SET_FILE);
    await writeCsv(db, rows, file);
    const path = runPath(ctx, TRAINING_SET_FILE);
    await ctx.services.artifact.put(path, await readFile(file), { contentType: 'text/csv' });
    ctx.logger.info({ rows: rows.length, path }, 'training set written');
    return {
      trainingSet: path,
      // How a fit command names it: {{inputs.training-set.files.training-set.csv}}.
      files: { [TRAINING_SET_FILE]: path },
      rows: rows.length,
      spec: spec as unknown as StepOutput,
    };
  });
}

interface Dataset {
  inputs: string[];
  columns: Record<string, Float64Array>;
  labels: Float64Array;
  times: Float64Array;
}

/** The numeric `view:feature` columns of the training set, its labels and event times. */
export async function readDataset(
  ctx: StepContext,
  path: string,
  spec: TrainingSpec,
  inputs?: string[],
): Promise<Dataset> {
  return withScratch(async (db, dir) => {
    const source = fileSource(await download(ctx.services.artifact, path, dir, 'training-set.csv'));
    const described = await describeSource(db, source);
    const numeric = /^(DOUBLE|FLOAT|BIGINT|INTEGER|SMALLINT|TINYINT|BOOLEAN|DECIMAL.*)$/;
    const chosen =
      inputs ?? described.filter((c) => c.name.includes(':') && numeric.test(c.type)).map((c) => c.name);
    if (chosen.length === 0)
      throw invalidArgument(
        'params.featureService',
        'the training set has no numeric feature column',
        'serve numeric features to train on',
      );
    const columns = await numericColumns(db, source, [...chosen, spec.labelColumn]);
    const times = (
      await db.queryColumns(
        `SELECT epoch_ms(CAST(event_timestamp AS TIMESTAMPTZ))::DOUBLE AS t FROM ${source}`,
      )
    ).t as Float64Array;
    const labels = columns[spec.labelColumn]!;
    delete columns[spec.labelColumn];
    return { inputs: chosen, columns, labels, times };
  });
}

/** Fits the built-in trainer on the training split; the model file and the holdout metrics. */
export async function fitBuiltin(ctx: StepContext): Promise<StepOutput> {
  const { trainingSet, spec } = ctx.inputs['training-set'] as { trainingSet: string; spec: TrainingSpec };
  const data = await readDataset(ctx, trainingSet, spec);
  const all = fromColumns(data.columns, data.labels);
  const split = splitByTime(data.times, { holdoutFraction: spec.holdoutFraction });
  const model = train(
    selectRows(all, split.train),
    spec.algorithm === 'logistic'
      ? { algorithm: 'logistic-regression' }
      : {
          algorithm: 'gradient-boosted-trees',
          options: { objective: spec.objective === 'binary' ? 'binary:logistic' : 'reg:squarederror' },
        },
  );
  const holdout = selectRows(all, split.holdout);
  const predicted = model.predict(holdout.features, holdout.rows);
  const metrics =
    spec.objective === 'binary'
      ? evaluateBinary(holdout.labels, predicted)
      : evaluateRegression(holdout.labels, predicted);
  const path = runPath(ctx, 'model.json');
  await ctx.services.artifact.put(path, model.modelJson(), { contentType: 'application/json' });
  ctx.logger.info({ metrics, rows: split.train.length }, 'model fitted');
  return {
    model: path,
    inputs: data.inputs,
    holdoutFrom: new Date(split.cutoff).toISOString(),
    metrics: metrics as unknown as StepOutput,
  };
}
