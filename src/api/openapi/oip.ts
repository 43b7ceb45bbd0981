/**
 * The Open Inference Protocol v2 over REST under `/v2` (src/api/oip-rest.ts), with Triton's binary
 * tensor data extension: errors there answer the protocol's `{"error": "..."}`. The inference body
 * schema mirrors serving/tensors-binary.ts and serving/tensors.ts, which check it by hand.
 */
import { DATATYPES } from '../../serving/tensors.js';
import {
  type ApiArea,
  json,
  type Operation,
  object,
  oipErrors,
  type Parameter,
  type Paths,
  pathParams,
  ref,
  type Schema,
} from './common.js';

const TAG = 'oip-v2';
const HEADER = 'Inference-Header-Content-Length';

const datatype = { type: 'string', enum: [...DATATYPES] };
const shape = {
  type: 'array',
  items: {
    anyOf: [
      { type: 'integer', minimum: 0 },
      { type: 'string', pattern: '^[0-9]+$' },
    ],
  },
};
const binarySize = { type: 'integer', minimum: 0, description: 'Bytes of this tensor after the JSON header' };
const tensorMetadata = object({
  name: { type: 'string' },
  datatype,
  shape: { type: 'array', items: { type: 'integer' } },
});

const SCHEMAS: Record<string, Schema> = {
  ServerMetadata: object({
    name: { type: 'string' },
    version: { type: 'string' },
    extensions: { type: 'array', items: { type: 'string' } },
  }),
  Live: object({ live: { type: 'boolean' } }),
  Ready: object({ ready: { type: 'boolean' } }),
  ModelMetadata: object({
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: tensorMetadata },
    outputs: { type: 'array', items: tensorMetadata },
  }),
  InferInput: {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: {
      name: { type: 'string', minLength: 1 },
      datatype,
      shape,
      data: { type: 'array', description: 'Row-major values, flat or nested as the shape; null is NaN' },
      parameters: { type: 'object', properties: { binary_data_size: binarySize } },
    },
    description: 'Either `data`, or `parameters.binary_data_size` with its bytes after the JSON header',
    anyOf: [
      { required: ['data'] },
      { required: ['parameters'], properties: { parameters: { required: ['binary_data_size'] } } },
    ],
  },
  InferRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: {
        type: 'object',
        properties: { binary_data_output: { type: 'boolean', description: 'Every output as binary' } },
      },
      inputs: { type: 'array', minItems: 1, items: ref('InferInput') },
      outputs: {
        type: 'array',
        description: 'The outputs wanted, in order; all when absent',
        items: object(
          {
            name: { type: 'string' },
            parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } } },
          },
          ['parameters'],
        ),
      },
    },
  },
  InferResponse: object(
    {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      outputs: {
        type: 'array',
        items: object(
          {
            name: { type: 'string' },
            datatype,
            shape: { type: 'array', items: { type: 'integer' } },
            data: { type: 'array' },
            parameters: { type: 'object', properties: { binary_data_size: binarySize } },
          },
          ['data', 'parameters'],
        ),
      },
    },
    ['id'],
  ),
};

const headerParam: Parameter = {
  name: HEADER,
  in: 'header',
  required: false,
  description:
    'Binary tensor extension: the body is a JSON header of this many bytes, then the raw ' +
    'little-endian bytes of each input with `parameters.binary_data_size`, in input order',
  schema: { type: 'integer', minimum: 1 },
};

const binaryBody = {
  schema: {
    type: 'string',
    contentMediaType: 'application/octet-stream',
    description: `An InferRequest JSON header of \`${HEADER}\` bytes, followed by the binary tensors`,
  },
};

function op(
  path: string,
  operation: Omit<Operation, 'tags' | 'parameters'>,
  extra: Parameter[] = [],
): Operation {
  const parameters = [...pathParams(path), ...extra];
  return { ...operation, tags: [TAG], ...(parameters.length ? { parameters } : {}) };
}

function readiness(path: string, operationId: string, summary: string): Operation {
  return op(path, {
    operationId,
    summary,
    responses: {
      '200': json('Ready', ref('Ready')),
      '400': json('Not ready', ref('Ready')),
      ...oipErrors(404),
    },
  });
}

function modelPaths(base: string, suffix: string, which: string): Paths {
  return {
    [base]: {
      get: op(base, {
        operationId: `modelMetadata${suffix}`,
        summary: `Metadata of ${which}: its input and output tensors`,
        responses: { '200': json('The metadata', ref('ModelMetadata')), ...oipErrors(400, 404) },
      }),
    },
    [`${base}/ready`]: {
      get: readiness(`${base}/ready`, `modelReady${suffix}`, `Whether ${which} is ready`),
    },
    [`${base}/infer`]: {
      post: op(
        `${base}/infer`,
        {
          operationId: `modelInfer${suffix}`,
          summary: `Inference with ${which}`,
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('InferRequest') },
              'application/octet-stream': binaryBody,
            },
          },
          responses: {
            '200': {
              description: `JSON; with binary outputs asked for, a JSON header of \`${HEADER}\` bytes then their bytes`,
              headers: {
                [HEADER]: { description: 'Set when binary outputs follow', schema: { type: 'integer' } },
              },
              content: {
                'application/json': { schema: ref('InferResponse') },
                'application/octet-stream': {
                  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            },
            ...oipErrors(400, 404, 413),
          },
        },
        [headerParam],
      ),
    },
  };
}

const paths: Paths = {
  // Fastify also answers `/v2/`: a trailing-slash twin it registers without telling onRoute.
  '/v2': {
    get: op('/v2', {
      operationId: 'serverMetadata',
      summary: 'Server metadata: name, version and protocol extensions',
      responses: { '200': json('The metadata', ref('ServerMetadata')), ...oipErrors() },
    }),
  },
  '/v2/health/live': {
    get: op('/v2/health/live', {
      operationId: 'serverLive',
      summary: 'Whether the server is live',
      responses: { '200': json('Live', ref('Live')), ...oipErrors() },
    }),
  },
  '/v2/health/ready': {
    get: readiness('/v2/health/ready', 'serverReady', 'Whether every production model is loaded and warm'),
  },
  ...modelPaths('/v2/models/{model}', '', 'the production version of a model'),
  ...modelPaths('/v2/models/{model}/versions/{version}', 'Version', 'one version of a model'),
};

/** The OIP v2 paths and schemas. */
export const OIP: ApiArea = { paths, schemas: SCHEMAS };
