/**
 * The feature store's request and answer schemas. The apply body and the registry objects come
 * from the zod schemas `POST /v1/apply` validates with; the rest mirror the hand-written checks of
 * the routes (src/api/routes/*, features/retrieval/*).
 */
import { type ZodType, z } from 'zod';
import {
  definitionsSchema,
  entitySchema,
  featureServiceSchema,
  featureViewSchema,
  sourceSchema,
} from '../../features/definitions.js';
import { object, ref, type Schema } from './common.js';

/** A zod schema as a JSON Schema 2020-12 object, without its `$schema` (OpenAPI 3.1's dialect). */
export function fromZod(schema: ZodType, io: 'input' | 'output'): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;
  return rest;
}

/** A registry object as `GET /v1/<kind>/{name}` answers it: its definition plus timestamps. */
function described(schema: ZodType, extra: Record<string, Schema> = {}): Schema {
  const definition = fromZod(schema, 'output');
  const { additionalProperties: _closed, ...open } = definition;
  return {
    ...open,
    properties: {
      ...(definition.properties as Record<string, Schema>),
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      ...extra,
    },
    required: [...((definition.required as string[] | undefined) ?? []), 'createdAt', 'updatedAt'],
  };
}

const names = { type: 'array', items: { type: 'string' } };
const kindPlan = object({ added: names, changed: names, removed: names });
const featureRefs: Schema = {
  type: 'array',
  minItems: 1,
  items: { type: 'string', description: '`view:feature`, or `view:*` for every feature of a view' },
};
const count = { type: 'integer', minimum: 0 };

const onlineColumn = object({
  values: { type: 'array', items: {} },
  statuses: { type: 'array', items: { type: 'string', enum: ['PRESENT', 'NOT_FOUND', 'OUTSIDE_MAX_AGE'] } },
  event_timestamps: { type: 'array', items: { type: 'string' } },
});

const rowError = object({
  row: { type: 'integer' },
  column: { type: 'string' },
  value: { type: ['string', 'null'] },
  reason: { type: 'string' },
});

const fileLoad = {
  rows: count,
  accepted: count,
  duplicates: count,
  rejected: count,
  errors: { type: 'array', items: rowError, description: 'The first bad values, in file order' },
};

/** The component schemas of the feature store. */
export const FEATURE_SCHEMAS: Record<string, Schema> = {
  ApplyRequest: fromZod(definitionsSchema, 'input'),
  ApplyResult: object({
    plan: object({
      entities: kindPlan,
      sources: kindPlan,
      featureViews: {
        ...kindPlan,
        required: ['added', 'changed', 'removed', 'transformVersions'],
        properties: {
          ...(kindPlan.properties as Record<string, Schema>),
          transformVersions: { type: 'object', additionalProperties: { type: 'integer' } },
        },
      },
      featureServices: kindPlan,
    }),
    applied: { type: 'boolean', description: 'false for `?dryRun=true`' },
  }),
  Entity: described(entitySchema),
  Source: described(sourceSchema),
  FeatureView: described(featureViewSchema, {
    transformVersion: { type: 'integer' },
    versions: {
      type: 'array',
      description: 'Every version the view has had, oldest first (describe only)',
      items: object({
        version: { type: 'integer' },
        appliedAt: { type: 'string', format: 'date-time' },
        definition: fromZod(featureViewSchema, 'output'),
      }),
    },
  }),
  FeatureService: described(featureServiceSchema),
  PushEventsRequest: object({
    events: {
      type: 'array',
      description: "Events with the fields of the source's schema",
      items: { type: 'object' },
    },
  }),
  PushResult: object({ accepted: count, duplicates: count }),
  FileLoadResult: object(fileLoad),
  FileRejected: object(
    {
      ...fileLoad,
      code: { type: 'string', const: 'INVALID_ARGUMENT' },
      error: { type: 'string' },
    },
    [],
  ),
  OnlineRequest: {
    type: 'object',
    description: "Feast's feature-server request; other fields (e.g. full_feature_names) are ignored",
    required: ['entities'],
    properties: {
      entities: {
        type: 'object',
        description: 'Join key -> one value per entity; every key has the same number of values',
        additionalProperties: { type: 'array' },
      },
      features: featureRefs,
      featureService: { type: 'string' },
    },
    oneOf: [{ required: ['features'] }, { required: ['featureService'] }],
  },
  OnlineResponse: object({
    metadata: object({ feature_names: names }),
    results: { type: 'array', items: onlineColumn, description: 'Join keys first, then one per feature' },
  }),
  HistoricalRequest: {
    type: 'object',
    required: ['entities'],
    properties: {
      entities: {
        type: 'array',
        description: 'Entity rows: the join keys and `event_timestamp`',
        items: { type: 'object' },
      },
      features: featureRefs,
      featureService: { type: 'string' },
      asOfSystemTime: {
        type: ['string', 'number', 'null'],
        description: 'Only rows created at or before this time count (ISO-8601 or epoch ms)',
      },
    },
    oneOf: [{ required: ['features'] }, { required: ['featureService'] }],
  },
  HistoricalUpload: {
    type: 'object',
    required: ['entities'],
    properties: {
      entities: {
        type: 'string',
        contentMediaType: 'application/octet-stream',
        description: 'CSV or Parquet',
      },
      features: { type: 'string', description: '`view:feature` refs, comma-separated or repeated' },
      featureService: { type: 'string' },
      asOfSystemTime: { type: 'string' },
      format: { type: 'string', enum: ['csv', 'parquet'] },
    },
  },
  HistoricalRows: object({
    rows: {
      type: 'array',
      description: 'In input order: keys, `event_timestamp`, then one column per feature',
      items: { type: 'object' },
    },
  }),
  FileUpload: {
    type: 'object',
    required: ['file'],
    properties: {
      file: { type: 'string', contentMediaType: 'application/octet-stream' },
      format: { type: 'string', enum: ['csv', 'parquet', 'jsonl'], description: 'Default: from the name' },
      onError: { type: 'string', enum: ['reject', 'quarantine'], default: 'reject' },
    },
  },
  Lineage: object({
    view: { type: 'string' },
    lineage: {
      type: 'array',
      description: 'Newest write first',
      items: object({
        view: { type: 'string' },
        transformVersion: { type: 'integer' },
        inputs: {
          type: 'array',
          items: object({
            kind: { type: 'string', enum: ['source', 'view'] },
            name: { type: 'string' },
            minEventTime: { type: ['string', 'null'] },
            maxEventTime: { type: ['string', 'null'] },
          }),
        },
        rowsWritten: count,
        runId: { type: 'string' },
        path: { type: 'string', enum: ['push', 'file'] },
        writtenAt: { type: 'string', format: 'date-time' },
      }),
    },
  }),
};

/** The list answer of one registry kind: `{"<key>": [...]}`. */
export function listOf(key: string, schemaName: string): Schema {
  return object({ [key]: { type: 'array', items: ref(schemaName) } });
}
