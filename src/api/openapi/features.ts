/** The feature store's REST routes (src/api/routes/features.ts and the files it registers). */
import { REGISTRY_KINDS, type RegistryKind } from '../../features/plan.js';
import { materializeRequestSchema } from '../routes/materialize.js';
import {
  type ApiArea,
  errors,
  json,
  jsonBody,
  type Operation,
  object,
  type Parameter,
  type Paths,
  pathParams,
  ref,
} from './common.js';
import { FEATURE_SCHEMAS, fromZod, listOf } from './feature-schemas.js';

const TAG = 'features';

const KINDS: Record<RegistryKind, { key: string; schema: string; singular: string }> = {
  entities: { key: 'entities', schema: 'Entity', singular: 'entity' },
  sources: { key: 'sources', schema: 'Source', singular: 'source' },
  'feature-views': { key: 'featureViews', schema: 'FeatureView', singular: 'feature view' },
  'feature-services': { key: 'featureServices', schema: 'FeatureService', singular: 'feature service' },
};

function op(
  path: string,
  operation: Omit<Operation, 'tags' | 'parameters'>,
  query: Parameter[] = [],
): Operation {
  const parameters = [...pathParams(path), ...query];
  return { ...operation, tags: [TAG], ...(parameters.length ? { parameters } : {}) };
}

function registryPaths(): Paths {
  const paths: Paths = {};
  for (const kind of REGISTRY_KINDS) {
    const { key, schema, singular } = KINDS[kind];
    const id = key.charAt(0).toUpperCase() + key.slice(1);
    paths[`/v1/${kind}`] = {
      get: op(`/v1/${kind}`, {
        operationId: `list${id}`,
        summary: `List every ${singular}, by name`,
        responses: { '200': json(`The ${kind}`, listOf(key, schema)), ...errors() },
      }),
    };
    paths[`/v1/${kind}/{name}`] = {
      get: op(`/v1/${kind}/{name}`, {
        operationId: `describe${id}`,
        summary: `Describe one ${singular}`,
        responses: { '200': json(`The ${singular}`, ref(schema)), ...errors(404) },
      }),
    };
  }
  return paths;
}

const historicalPath = '/v1/features/historical';
const historical: Operation = op(historicalPath, {
  operationId: 'getHistoricalFeatures',
  summary: 'Point-in-time correct training rows for entity rows',
  description:
    'Entity rows inline as JSON, or as a CSV/Parquet file in a multipart body. Send `Accept: ' +
    'application/vnd.apache.parquet` or `text/csv` for a file answer instead of JSON.',
  requestBody: {
    required: true,
    content: {
      'application/json': { schema: ref('HistoricalRequest') },
      'multipart/form-data': {
        schema: ref('HistoricalUpload'),
        encoding: { entities: { contentType: 'text/csv, application/vnd.apache.parquet' } },
      },
    },
  },
  responses: {
    '200': {
      description: 'The rows, in input order',
      headers: {
        'meridian-row-count': {
          description: 'Rows in a Parquet or CSV answer',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      content: {
        'application/json': { schema: ref('HistoricalRows') },
        'application/vnd.apache.parquet': {
          schema: { type: 'string', contentMediaType: 'application/vnd.apache.parquet' },
        },
        'text/csv': { schema: { type: 'string' } },
      },
    },
    ...errors(400, 404, 413),
  },
});

function online(operationId: string, summary: string): Operation {
  return op('/v1/features/online', {
    operationId,
    summary,
    requestBody: jsonBody(ref('OnlineRequest')),
    responses: {
      '200': json('One column per join key and feature', ref('OnlineResponse')),
      ...errors(400, 404),
    },
  });
}

const paths: Paths = {
  '/v1/apply': {
    post: op(
      '/v1/apply',
      {
        operationId: 'applyDefinitions',
        summary: "Make the registry match a project's definitions (objects left out are removed)",
        requestBody: jsonBody(ref('ApplyRequest')),
        responses: {
          '200': json('The plan, and whether it was applied', ref('ApplyResult')),
          ...errors(400, 409),
        },
      },
      [
        {
          name: 'dryRun',
          in: 'query',
          required: false,
          description: 'true (or empty, or 1) for the plan only',
          schema: { type: 'string', enum: ['', 'true', 'false', '1', '0'] },
        },
      ],
    ),
  },
  ...registryPaths(),
  '/v1/sources/{source}/events': {
    post: op('/v1/sources/{source}/events', {
      operationId: 'pushEvents',
      summary: 'Push events; answers once they are durable offline and applied online',
      requestBody: jsonBody(ref('PushEventsRequest')),
      responses: { '200': json('Counts', ref('PushResult')), ...errors(400, 404, 413, 429) },
    }),
  },
  '/v1/sources/{source}/files': {
    post: op('/v1/sources/{source}/files', {
      operationId: 'loadFile',
      summary: 'Load a CSV, Parquet or JSON-lines file into a source',
      requestBody: {
        required: true,
        content: { 'multipart/form-data': { schema: ref('FileUpload') } },
      },
      responses: {
        '200': json('Counts and the first bad values', ref('FileLoadResult')),
        '400': json(
          'The file was rejected whole (counts and errors with `error`), or a bad argument (the error body)',
          { anyOf: [ref('FileRejected'), ref('Error')] },
        ),
        ...errors(404, 413),
      },
    }),
  },
  '/v1/feature-views/{name}/lineage': {
    get: op(
      '/v1/feature-views/{name}/lineage',
      {
        operationId: 'getLineage',
        summary: 'The newest writes of a feature view, newest first',
        responses: { '200': json('The lineage records', ref('Lineage')), ...errors(400, 404) },
      },
      [
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'How many writes (default 100)',
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      ],
    ),
  },
  '/v1/features/online': { post: online('getOnlineFeatures', 'Read the latest feature values of entities') },
  '/get-online-features': {
    post: online('getOnlineFeaturesFeast', "The online read at Feast's feature-server path"),
  },
  [historicalPath]: { post: historical },
  '/v1/materialize': {
    post: op('/v1/materialize', {
      operationId: 'materialize',
      summary: 'Load the newest offline values of feature views into the online store',
      description:
        'Per entity, the offline row with the newest event time (then the latest created) is written ' +
        'online unless the online store already holds a newer event for it (counted as `stale`).',
      requestBody: jsonBody(ref('MaterializeRequest')),
      responses: { '200': json('Rows written per view', ref('MaterializeResult')), ...errors(400, 404) },
    }),
  },
};

const count = { type: 'integer', minimum: 0 };

const MATERIALIZE_SCHEMAS = {
  MaterializeRequest: fromZod(materializeRequestSchema, 'input'),
  MaterializeResult: object({
    views: {
      type: 'object',
      description: 'Per view: rows that became the online value, and rows skipped for a newer online one',
      additionalProperties: object({ rows: count, stale: count }),
    },
    rows: { ...count, description: 'Rows written online over all views' },
  }),
};

/** The feature store's paths and schemas. */
export const FEATURES: ApiArea = { paths, schemas: { ...FEATURE_SCHEMAS, ...MATERIALIZE_SCHEMAS } };
