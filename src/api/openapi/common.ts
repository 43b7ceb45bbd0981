/**
 * The building blocks every area of the OpenAPI document shares: operation and schema types, path
 * parameters derived from the path itself, JSON bodies and answers, and the error answers of the
 * REST error handler (`{"error", "code", "details"}`) and of the OIP v2 routes (`{"error"}`).
 */
import type { ErrorCode } from '../../core/errors.js';

export type Schema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description: string;
  schema: Schema;
}

export interface MediaType {
  schema?: Schema;
  encoding?: Record<string, { contentType: string }>;
}

export interface Response {
  description: string;
  headers?: Record<string, { description: string; schema: Schema }>;
  content?: Record<string, MediaType>;
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, MediaType> };
  responses: Record<string, Response>;
  'x-undocumented'?: true;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type PathItem = Partial<Record<Method, Operation>>;
export type Paths = Record<string, PathItem>;

/** The paths and component schemas one area of the platform contributes. */
export interface ApiArea {
  paths: Paths;
  schemas: Record<string, Schema>;
}

/** A reference to a component schema. */
export function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

const PATH_PARAMS: Record<string, { description: string; schema: Schema }> = {
  name: { description: 'Name of the object', schema: { type: 'string', minLength: 1 } },
  source: { description: 'Name of the source', schema: { type: 'string', minLength: 1 } },
  model: { description: 'Name of the model', schema: { type: 'string', minLength: 1 } },
  version: {
    description: 'Model version, a positive integer',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
};

/** The path parameters of an OpenAPI path (`/v1/models/{name}`), in the order they appear. */
export function pathParams(path: string): Parameter[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => {
    const known = PATH_PARAMS[name!] ?? { description: name!, schema: { type: 'string' } };
    return { name: name!, in: 'path', required: true, ...known };
  });
}

/** A required JSON request body. */
export function jsonBody(schema: Schema, description?: string): Operation['requestBody'] {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema } },
  };
}

/** A JSON answer. */
export function json(description: string, schema: Schema): Response {
  return { description, content: { 'application/json': { schema } } };
}

/** Every code of core/errors: a Record, so a code added there and not here fails to compile. */
const ERROR_CODES: Record<ErrorCode, true> = {
  INVALID_ARGUMENT: true,
  CONFIG_INVALID: true,
  NOT_FOUND: true,
  ALREADY_EXISTS: true,
  CONFLICT: true,
  FAILED_PRECONDITION: true,
  UNAUTHENTICATED: true,
  PERMISSION_DENIED: true,
  RESOURCE_EXHAUSTED: true,
  DEADLINE_EXCEEDED: true,
  STORE_UNAVAILABLE: true,
  UNAVAILABLE: true,
  DATA_CORRUPT: true,
  INTERNAL: true,
};

/** The body of every REST error answer outside `/v2`: MeridianError.toJSON(). */
export const ERROR_SCHEMA: Schema = {
  type: 'object',
  description: 'What went wrong and what to do about it; `code` maps to exactly one HTTP status.',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'The message: what was wrong and what to do' },
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    details: {
      type: 'object',
      description: 'Present when there are details: `field` names the bad input, `hint` the fix',
      properties: { field: { type: 'string' }, hint: { type: 'string' } },
      additionalProperties: true,
    },
  },
};

/** The body of an OIP v2 error answer, as the protocol specifies it. */
export const OIP_ERROR_SCHEMA: Schema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' } },
};

const ERROR_STATUSES: Record<number, string> = {
  400: 'INVALID_ARGUMENT: a bad path, query or body value; the message names the field and the fix',
  404: 'NOT_FOUND: the named object does not exist',
  409: 'ALREADY_EXISTS or CONFLICT',
  412: 'FAILED_PRECONDITION: the request cannot be answered in the current state',
  413: 'RESOURCE_EXHAUSTED: the upload or body is larger than the limit',
  429: 'RESOURCE_EXHAUSTED: too much work queued; retry later',
  503: 'STORE_UNAVAILABLE or UNAVAILABLE: a store did not answer, or the server is shutting down',
};

function errorAnswers(schemaName: string, statuses: number[]): Record<string, Response> {
  const answers: Record<string, Response> = {};
  for (const status of statuses) answers[String(status)] = json(ERROR_STATUSES[status]!, ref(schemaName));
  answers.default = json('Any other error (500 INTERNAL, 503 STORE_UNAVAILABLE, ...)', ref(schemaName));
  return answers;
}

/** REST error answers with these statuses, plus `default` for the rest. */
export function errors(...statuses: number[]): Record<string, Response> {
  return errorAnswers('Error', statuses);
}

/** OIP v2 error answers with these statuses, plus `default` for the rest. */
export function oipErrors(...statuses: number[]): Record<string, Response> {
  return errorAnswers('OipError', statuses);
}

/** A JSON object schema whose listed properties are all required. */
export function object(properties: Record<string, Schema>, optional: string[] = []): Schema {
  const required = Object.keys(properties).filter((key) => !optional.includes(key));
  return { type: 'object', required, properties };
}
