/** The routes of every target (src/api/http.ts): liveness, readiness, metrics and this document. */
import { type ApiArea, json, object, type Paths } from './common.js';

const TAG = 'operations';

const storeStatus = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, at: { type: 'string' }, error: { type: 'string' } },
};
const readiness = {
  type: 'object',
  required: ['status', 'stores'],
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable', 'shutting down'] },
    error: { type: 'string', description: 'Which stores did not answer' },
    stores: { type: 'object', additionalProperties: storeStatus },
  },
};

const paths: Paths = {
  '/healthz': {
    get: {
      operationId: 'healthz',
      summary: 'Liveness: the process answers',
      tags: [TAG],
      responses: { '200': json('Alive', object({ status: { type: 'string', const: 'ok' } })) },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: every store of the target answers a ping',
      tags: [TAG],
      responses: {
        '200': json('Ready', { $ref: '#/components/schemas/Readiness' }),
        '503': json('A store did not answer, or the server is shutting down', {
          $ref: '#/components/schemas/Readiness',
        }),
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: [TAG],
      responses: {
        '200': {
          description: 'The Prometheus text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document: the routes this target serves',
      tags: [TAG],
      responses: { '200': json('The document', { type: 'object' }) },
    },
  },
};

/** The routes every target serves. */
export const OPERATIONS: ApiArea = { paths, schemas: { Readiness: readiness } };
