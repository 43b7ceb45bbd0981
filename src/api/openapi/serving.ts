/**
 * The model server's REST routes under `/v1/models` (src/api/routes/models.ts, model-stats.ts,
 * predict.ts). Every body is checked by hand there; these schemas mirror those checks.
 */
import { MODEL_STAGES } from '../../serving/model-version.js';
import { MODEL_FORMATS } from '../../serving/runtimes/model.js';
import {
  type ApiArea,
  errors,
  json,
  jsonBody,
  type Operation,
  object,
  type Paths,
  pathParams,
  ref,
  type Schema,
} from './common.js';

const TAG = 'serving';

const stage = { type: 'string', enum: [...MODEL_STAGES] };
const time = { type: 'string', format: 'date-time' };
const missingPolicy: Schema = {
  type: 'object',
  description: 'What a hydrated prediction does with a missing feature value',
  properties: {
    default: { type: 'string', enum: ['error', 'nan'], default: 'error' },
    values: {
      type: 'object',
      description: 'A default per input (its name, `view:feature` ref or bare feature name)',
      additionalProperties: { type: 'number' },
    },
  },
  additionalProperties: false,
};
const signature = object(
  {
    task: { type: 'string' },
    featureCount: { type: 'integer' },
    featureNames: { type: 'array', items: { type: 'string' } },
    classCount: { type: 'integer' },
    classLabels: { type: 'array', items: { type: ['number', 'string'] } },
    outputDatatype: { type: 'string', enum: ['FP32', 'FP64'] },
  },
  ['featureNames', 'classCount', 'classLabels'],
);
const summary = {
  name: { type: 'string' },
  createdAt: time,
  latestVersion: { type: 'integer' },
  productionVersion: { type: 'integer', description: 'The version answering by default' },
};
const versionStats = object({
  requests: { type: 'integer' },
  errors: { type: 'integer' },
  p50Ms: { type: ['number', 'null'] },
  p95Ms: { type: ['number', 'null'] },
  p99Ms: { type: ['number', 'null'] },
});

const SCHEMAS: Record<string, Schema> = {
  ModelPush: {
    type: 'object',
    required: ['file', 'format'],
    properties: {
      file: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The model file' },
      format: { type: 'string', enum: [...MODEL_FORMATS] },
      featureService: { type: 'string', description: 'The feature service hydrated predictions read' },
      inputs: { type: 'string', description: 'Feature names in input column order, comma-separated' },
      missing: { type: 'string', contentMediaType: 'application/json', contentSchema: missingPolicy },
      metrics: { type: 'string', contentMediaType: 'application/json', description: 'A JSON object' },
      baseline: { type: 'string', description: 'A reference to the training baseline' },
      createdBy: { type: 'string' },
    },
    additionalProperties: false,
  },
  PushedModel: object({
    name: { type: 'string' },
    version: { type: 'integer' },
    stage,
    sha256: { type: 'string' },
  }),
  StageRequest: object({ stage }),
  ModelVersion: object(
    {
      name: { type: 'string' },
      version: { type: 'integer' },
      format: { type: 'string', enum: [...MODEL_FORMATS] },
      stage,
      artifactPath: { type: 'string' },
      sha256: { type: 'string' },
      size: { type: 'integer' },
      signature,
      inputs: { type: 'array', items: { type: 'string' } },
      featureService: { type: 'string' },
      missingPolicy,
      metrics: { type: 'object' },
      baseline: { type: 'string' },
      createdBy: { type: 'string' },
      createdAt: time,
      stageChangedAt: time,
    },
    ['inputs', 'featureService', 'missingPolicy', 'metrics', 'baseline'],
  ),
  StageChange: {
    allOf: [ref('ModelVersion')],
    properties: { demotedVersion: { type: 'integer', description: 'The version moved out of production' } },
  },
  ModelList: object({ models: { type: 'array', items: object(summary, ['productionVersion']) } }),
  ModelDescription: object({ ...summary, versions: { type: 'array', items: ref('ModelVersion') } }, [
    'productionVersion',
  ]),
  ModelStats: object({
    model: { type: 'string' },
    window: { type: 'string', description: 'The recent window the figures cover' },
    versions: { type: 'object', additionalProperties: versionStats, description: 'Per version' },
  }),
  PredictRequest: {
    type: 'object',
    required: ['entities'],
    properties: {
      entities: {
        type: 'object',
        description: 'Join key -> one value per entity, e.g. {"user_id": [101, 102]}',
        additionalProperties: { type: 'array' },
      },
      includeFeatures: { type: 'boolean', default: false, description: 'Also answer the input values' },
    },
    additionalProperties: false,
  },
  PredictResponse: {
    type: 'object',
    required: ['model', 'version'],
    properties: {
      model: { type: 'string' },
      version: { type: 'integer' },
      predictions: { type: 'array', items: { type: 'number' }, description: 'Regressors' },
      probabilities: {
        type: 'array',
        items: { type: 'array', items: { type: 'number' } },
        description: 'Classifiers: one row of class probabilities per entity',
      },
      labels: { type: 'array', items: { type: ['number', 'string'] }, description: 'Classifiers' },
      features: { type: 'object', description: 'With includeFeatures: input name -> values' },
    },
  },
};

function op(path: string, operation: Omit<Operation, 'tags' | 'parameters'>): Operation {
  return { ...operation, tags: [TAG], parameters: pathParams(path) };
}

function predict(path: string, operationId: string, summary: string): Operation {
  return op(path, {
    operationId,
    summary,
    description:
      "Reads the model's feature service from the online store for the entities, then predicts. " +
      "A missing value follows the version's missing policy, else 412 FAILED_PRECONDITION.",
    requestBody: jsonBody(ref('PredictRequest')),
    responses: {
      '200': json('One prediction per entity, in order', ref('PredictResponse')),
      ...errors(400, 404, 412),
    },
  });
}

const paths: Paths = {
  '/v1/models': {
    get: {
      operationId: 'listModels',
      summary: 'List every registered model',
      tags: [TAG],
      responses: { '200': json('The models', ref('ModelList')), ...errors() },
    },
  },
  '/v1/models/{name}': {
    get: op('/v1/models/{name}', {
      operationId: 'describeModel',
      summary: 'Describe a model and every version',
      responses: { '200': json('The model', ref('ModelDescription')), ...errors(404) },
    }),
  },
  '/v1/models/{name}/versions': {
    post: op('/v1/models/{name}/versions', {
      operationId: 'pushModel',
      summary: 'Register a new version from a model file (multipart)',
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: ref('ModelPush'),
            encoding: { file: { contentType: 'application/octet-stream' } },
          },
        },
      },
      responses: { '201': json('The new version, in staging', ref('PushedModel')), ...errors(400, 413) },
    }),
  },
  '/v1/models/{name}/versions/{version}': {
    get: op('/v1/models/{name}/versions/{version}', {
      operationId: 'describeModelVersion',
      summary: 'Describe one version',
      responses: { '200': json('The version', ref('ModelVersion')), ...errors(400, 404) },
    }),
  },
  '/v1/models/{name}/versions/{version}/stage': {
    post: op('/v1/models/{name}/versions/{version}/stage', {
      operationId: 'setModelStage',
      summary: 'Move a version to staging, production or archived',
      requestBody: jsonBody(ref('StageRequest')),
      responses: {
        '200': json('The version after the change', ref('StageChange')),
        ...errors(400, 404, 409),
      },
    }),
  },
  '/v1/models/{name}/stats': {
    get: op('/v1/models/{name}/stats', {
      operationId: 'getModelStats',
      summary: "Requests, errors and latency percentiles per version (this replica's)",
      responses: { '200': json('The statistics', ref('ModelStats')), ...errors(404) },
    }),
  },
  '/v1/models/{name}/predict': {
    post: predict('/v1/models/{name}/predict', 'predict', 'Predict for entities with the production version'),
  },
  '/v1/models/{name}/versions/{version}/predict': {
    post: predict(
      '/v1/models/{name}/versions/{version}/predict',
      'predictVersion',
      'Predict for entities with one version',
    ),
  },
};

/** The model server's `/v1/models` paths and schemas. */
export const SERVING: ApiArea = { paths, schemas: SCHEMAS };
