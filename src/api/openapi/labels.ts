/**
 * The OpenAPI entries of ground truth and performance (src/api/routes/labels.ts): `POST /v1/labels`
 * (the request schema comes from the zod schema the route validates with) and a version's window
 * performance. Part of the monitor's area (src/api/openapi/monitoring.ts).
 */
import { labelsRequestSchema } from '../../monitoring/labels/schema.js';
import { errors, json, jsonBody, object, type Paths, pathParams, ref, type Schema } from './common.js';
import { fromZod } from './feature-schemas.js';

const TAG = 'monitoring';

const count = (description: string): Schema => ({ type: 'integer', minimum: 0, description });
const metric = (description: string): Schema => ({ type: 'number', description });
const nullableMetric = (description: string): Schema => ({ type: ['number', 'null'], description });

/** Component schemas of the labels and performance routes. */
export const LABEL_SCHEMAS: Record<string, Schema> = {
  LabelsRequest: fromZod(labelsRequestSchema, 'input'),
  LabelsResult: object({
    accepted: count('Labels stored'),
    duplicates: count('Labels for a prediction row that already has one (the first is kept)'),
    unknown: count('Labels whose prediction is not in the prediction log'),
    outsideLookback: count('Labels for predictions older than the lookback (default 14 days)'),
  }),
  PerformanceReport: object(
    {
      model: { type: 'string' },
      version: { type: 'integer' },
      from: { type: 'string', format: 'date-time', description: 'Inclusive' },
      to: { type: 'string', format: 'date-time', description: 'Exclusive' },
      predictions: count('Predicted rows in the window'),
      labelled: count('Of them, rows with a label'),
      labelledShare: nullableMetric('labelled / predictions; null for an empty window'),
      task: {
        type: ['string', 'null'],
        enum: ['binary', 'multiclass', 'regression', null],
        description: 'Null when no row of the window is labelled',
      },
      averaging: { type: ['string', 'null'], enum: ['binary', 'macro', null] },
      positiveLabel: {
        type: ['string', 'null'],
        description: 'Binary: 1, true, or else the last class in sorted order',
      },
      classes: {
        type: 'array',
        items: { type: 'string' },
        description: 'True and predicted classes, sorted',
      },
      metrics: {
        type: 'object',
        properties: {
          accuracy: metric('Classifiers'),
          precision: metric('Of the positive class (binary) or the macro average'),
          recall: metric('Of the positive class (binary) or the macro average'),
          f1: metric('Of the positive class (binary) or the macro average of per-class F1'),
          rocAuc: nullableMetric(
            "Binary only: from the last class's probability, tied scores ranked by their average rank",
          ),
          mae: metric('Regressors'),
          rmse: metric('Regressors'),
        },
      },
      training: {
        type: 'object',
        additionalProperties: { type: 'number' },
        description: "The version's training metrics matching the window's (e.g. auc as rocAuc)",
      },
      delta: {
        type: 'object',
        additionalProperties: { type: 'number' },
        description: 'Window minus training, per metric present in both',
      },
      labelDrift: {
        oneOf: [
          {
            allOf: [
              ref('ColumnDrift'),
              object({ column: { type: 'string' }, windowLabels: count('Labelled rows compared') }),
            ],
          },
          { type: 'null' },
        ],
        description:
          "The window's labels against the baseline's label column, Jensen-Shannon distance (base 2) " +
          "at 0.1: over the baseline's categories, or its equal-frequency bins for a numeric label",
      },
      labelDriftSkipped: {
        type: ['string', 'null'],
        description: 'Why there is no label drift (no baseline, no label column, no labels in the window)',
      },
    },
    [],
  ),
};

const PERFORMANCE_PATH = '/v1/models/{name}/versions/{version}/performance';

const timeParam = (name: string, description: string) => ({
  name,
  in: 'query' as const,
  required: false,
  description,
  schema: { type: 'string', format: 'date-time' },
});

/** The labels and performance paths. */
export const LABEL_PATHS: Paths = {
  '/v1/labels': {
    post: {
      operationId: 'postLabels',
      summary: 'Ground truth for earlier predictions',
      description:
        'Each label names its prediction by request id and row, or by model, entity key and time ' +
        '(the latest prediction for that entity at or before the time). Unknown, duplicate and late ' +
        'labels are counted, never an error. Needs the offline store (target all).',
      tags: [TAG],
      requestBody: jsonBody(ref('LabelsRequest')),
      responses: { '200': json('What became of the labels', ref('LabelsResult')), ...errors(400, 413) },
    },
  },
  [PERFORMANCE_PATH]: {
    get: {
      operationId: 'getPerformance',
      summary: "A version's performance over a window of labelled predictions",
      description:
        'One DuckDB query over the prediction log joined with the labels. Classifiers: accuracy, ' +
        'precision, recall, F1 (binary: of the positive class; multiclass: macro averages) and ROC ' +
        "AUC (binary), as scikit-learn computes them; regressors: MAE and RMSE. Compared with the version's " +
        "training metrics; label drift against the version's baseline.",
      tags: [TAG],
      parameters: [
        ...pathParams(PERFORMANCE_PATH),
        timeParam('from', 'Start of the window, inclusive (default a day before to)'),
        timeParam('to', 'End of the window, exclusive (default now)'),
      ],
      responses: { '200': json('The window performance', ref('PerformanceReport')), ...errors(400, 404) },
    },
  },
};
