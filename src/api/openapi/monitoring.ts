/**
 * The monitor's REST routes: `POST /v1/drift` (src/api/routes/drift.ts; the request schema comes
 * from the zod schema the route validates with, the answer is src/monitoring/drift/types.ts
 * `DriftReport`, the REST contract), model baselines (src/api/routes/baselines.ts) and
 * alerts (src/api/routes/alerts.ts).
 */
import { DRIFT_METHODS } from '../../monitoring/drift/types.js';
import { driftRequestSchema } from '../routes/drift.js';
import { driftWindowRequestSchema } from '../routes/drift-window.js';
import {
  type ApiArea,
  errors,
  json,
  jsonBody,
  object,
  type Paths,
  pathParams,
  ref,
  type Schema,
} from './common.js';
import { fromZod } from './feature-schemas.js';
import { LABEL_PATHS, LABEL_SCHEMAS } from './labels.js';
import { ALERT_SCHEMAS, BASELINE_SCHEMAS } from './monitoring-schemas.js';

const TAG = 'monitoring';

const columnDrift = object({
  type: { type: 'string', enum: ['numerical', 'categorical'] },
  method: { type: 'string', enum: [...DRIFT_METHODS] },
  score: {
    type: 'number',
    description:
      'The test statistic for tests (KS D, chi-square statistic, z), the distance for distances; ' +
      'an infinite statistic (a category the reference never saw) is the largest double, 1.7976931348623157e308',
  },
  pValue: { type: ['number', 'null'], description: 'Tests only (ks, chisquare, z); null for distances' },
  threshold: {
    type: 'number',
    description: 'Tests drift when pValue < threshold, distances when score >= threshold',
  },
  drifted: { type: 'boolean' },
  status: {
    type: 'string',
    enum: ['ok', 'warning', 'drift'],
    description:
      'warning: not drifted but within a factor of 2 of the threshold (p < 2 x threshold, score >= threshold / 2)',
  },
});

const SCHEMAS: Record<string, Schema> = {
  DriftRequest: fromZod(driftRequestSchema, 'input'),
  ColumnDrift: columnDrift,
  DriftReport: object({
    datasetDrift: { type: 'boolean', description: 'true when driftShare >= 0.5' },
    driftShare: { type: 'number', description: 'Drifted columns / compared columns' },
    drifted: { type: 'integer', description: 'How many columns drifted' },
    columns: {
      type: 'object',
      additionalProperties: ref('ColumnDrift'),
      description: 'Per column of current',
    },
  }),
};

const paths: Paths = {
  '/v1/drift': {
    post: {
      operationId: 'driftReport',
      summary: 'Compare two datasets column by column (ad-hoc drift report)',
      description:
        'Defaults as Evidently: up to 1000 reference rows, KS for numerical columns with more than 5 ' +
        'distinct values, chi-square for other columns with more than 2, else the two-proportion z-test, ' +
        'at p < 0.05; above 1000 rows, Wasserstein distance normed by the reference standard deviation ' +
        'for numerical columns and Jensen-Shannon distance (base 2) otherwise, at >= 0.1. Nulls are ' +
        'counted and excluded. Numerical columns are binned for PSI and Jensen-Shannon by the ' +
        "reference's deciles (value by value with at most 20 distinct reference values).",
      tags: [TAG],
      requestBody: jsonBody(ref('DriftRequest')),
      responses: { '200': json('The drift report', ref('DriftReport')), ...errors(400, 413) },
    },
  },
};

const BASELINE_PATH = '/v1/models/{name}/versions/{version}/baseline';
const WINDOW_DRIFT_PATH = '/v1/models/{name}/versions/{version}/drift';

const WINDOW_SCHEMAS: Record<string, Schema> = {
  WindowDriftRequest: fromZod(driftWindowRequestSchema, 'input'),
  WindowDriftReport: object({
    model: { type: 'string' },
    version: { type: 'integer' },
    window: object({
      from: { type: 'string', format: 'date-time', description: 'Inclusive' },
      to: { type: 'string', format: 'date-time', description: 'Exclusive' },
    }),
    rows: { type: 'integer', description: 'Prediction log rows in the window' },
    minRows: { type: 'integer', description: 'Fewer rows than this is insufficient_data' },
    status: { type: 'string', enum: ['compared', 'insufficient_data'] },
    datasetDrift: {
      type: ['boolean', 'null'],
      description: 'true when driftShare >= 0.5; null when insufficient_data',
    },
    driftShare: {
      type: ['number', 'null'],
      description: 'Drifted features / compared features; null when insufficient_data',
    },
    drifted: { type: 'integer', description: 'How many features drifted' },
    columns: {
      type: 'object',
      additionalProperties: ref('ColumnDrift'),
      description: 'Per feature of the baseline, as POST /v1/drift answers columns',
    },
    quality: {
      type: 'object',
      description:
        'Data quality per feature against the baseline: nullShare, outOfRange, unseenCategories ' +
        '({value, baseline, status: ok|warning|fail}, null when not applicable) and the worst status',
      additionalProperties: { type: 'object' },
    },
    performance: {
      type: 'object',
      description:
        "The version's performance over the window's labelled predictions: status (compared or " +
        'insufficient_labels, below 30 labelled rows), labelledShare, and when compared the metrics ' +
        '(accuracy, precision, recall, f1, rocAuc; mae, rmse), the training values, the drop per metric ' +
        '(share worse than training) and label drift',
    },
    prediction: {
      oneOf: [{ allOf: [ref('ColumnDrift'), object({ column: { type: 'string' } })] }, { type: 'null' }],
      description: "The prediction output against the baseline's prediction column (null without one)",
    },
    nulls: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description: 'Per compared column: window rows where it was null or missing',
    },
    skipped: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Columns not compared, with why',
    },
  }),
};

const monitoringPaths: Paths = {
  ...paths,
  ...LABEL_PATHS,
  [BASELINE_PATH]: {
    put: {
      operationId: 'putBaseline',
      summary: "Profile a version's reference (training) data as its drift baseline (multipart)",
      description:
        'Computed once in DuckDB and stored with the version; a second upload replaces it. Numeric ' +
        'columns get quantiles, decile bins, mean, population std, min/max, null share and a seeded ' +
        'sample (Parquet in the artifact store); categorical ones their top 100 category shares.',
      tags: [TAG],
      parameters: pathParams(BASELINE_PATH),
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: ref('BaselineUpload'),
            encoding: { file: { contentType: 'application/octet-stream' } },
          },
        },
      },
      responses: {
        '200': json('The stored profile, summarised', ref('BaselineSummary')),
        ...errors(400, 404, 413),
      },
    },
    get: {
      operationId: 'getBaseline',
      summary: "A version's stored baseline profile",
      tags: [TAG],
      parameters: pathParams(BASELINE_PATH),
      responses: { '200': json('The profile', ref('BaselineProfile')), ...errors(400, 404) },
    },
  },
  [WINDOW_DRIFT_PATH]: {
    post: {
      operationId: 'windowDrift',
      summary: "Drift of a window of the version's prediction log against its baseline",
      description:
        'Per feature and for the prediction output (classifiers: the probability of the last class, ' +
        'or the label for a categorical prediction column; regressors: the prediction), set-based in ' +
        "DuckDB over the offline store's predictions table; methods and thresholds as POST /v1/drift, " +
        "with the baseline's non-null count as the reference size. Results are stored in the offline " +
        'table drift_results and exported as gauges. Needs the offline store: 412 FAILED_PRECONDITION ' +
        'in a process that does not open it (a monitoring-only target).',
      tags: [TAG],
      parameters: pathParams(WINDOW_DRIFT_PATH),
      requestBody: {
        required: false,
        description: 'Optional; an empty body compares the last hour',
        content: { 'application/json': { schema: ref('WindowDriftRequest') } },
      },
      responses: {
        '200': json('The window drift report', ref('WindowDriftReport')),
        ...errors(400, 404, 412),
      },
    },
  },
  '/v1/alerts': {
    get: {
      operationId: 'listAlerts',
      summary: 'Alerts, newest first',
      tags: [TAG],
      parameters: [
        {
          name: 'state',
          in: 'query',
          required: false,
          description: 'Which alerts (default all)',
          schema: { type: 'string', enum: ['pending', 'firing', 'resolved', 'all'] },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'At most this many (1..1000, default 1000)',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
      ],
      responses: {
        '200': json('The alerts', object({ alerts: { type: 'array', items: ref('Alert') } })),
        ...errors(400),
      },
    },
  },
  '/v1/alerts/{id}': {
    get: {
      operationId: 'getAlert',
      summary: 'One alert',
      tags: [TAG],
      parameters: [
        { name: 'id', in: 'path', required: true, description: 'The alert id', schema: { type: 'string' } },
      ],
      responses: { '200': json('The alert', ref('Alert')), ...errors(404) },
    },
  },
};

/** The monitor's paths and schemas. */
export const MONITORING: ApiArea = {
  paths: monitoringPaths,
  schemas: { ...SCHEMAS, ...BASELINE_SCHEMAS, ...ALERT_SCHEMAS, ...WINDOW_SCHEMAS, ...LABEL_SCHEMAS },
};
