/**
 * The OpenAPI 3.1 document of a target: every documented operation of the routes the target
 * registered, and a marked stub for any registered route nobody documented, so the document never
 * silently leaves a route out.
 */
import {
  type ApiArea,
  ERROR_SCHEMA,
  type Method,
  OIP_ERROR_SCHEMA,
  type Operation,
  type Paths,
  pathParams,
  type Schema,
} from './common.js';
import { FEATURES } from './features.js';
import { MONITORING } from './monitoring.js';
import { OIP } from './oip.js';
import { OPERATIONS } from './operations.js';
import { PIPELINES } from './pipelines.js';
import { SERVING } from './serving.js';

/** One registered route: its method and its path in OpenAPI form (`/v1/models/{name}`). */
export interface RouteKey {
  method: Method;
  path: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Paths;
  components: { schemas: Record<string, Schema> };
}

const AREAS: ApiArea[] = [OPERATIONS, FEATURES, SERVING, OIP, MONITORING, PIPELINES];

const TAGS = [
  { name: 'operations', description: 'Liveness, readiness, metrics and this document' },
  { name: 'features', description: 'The feature store' },
  { name: 'serving', description: 'The model registry and hydrated predictions' },
  { name: 'oip-v2', description: 'Open Inference Protocol v2, with the binary tensor data extension' },
  { name: 'monitoring', description: 'Drift, data quality, labels and performance, alerts' },
  { name: 'pipelines', description: 'Pipeline definitions, triggers, runs, steps and their logs' },
];

/** Every documented operation of every area, whichever target serves it. */
export function documentedPaths(): Paths {
  const paths: Paths = {};
  for (const area of AREAS) Object.assign(paths, area.paths);
  return paths;
}

/** A Fastify route path (`/v1/models/:name`) in OpenAPI form (`/v1/models/{name}`). */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** What a registered route missing from the document gets: enough to be valid, and marked. */
function undocumented(route: RouteKey): Operation {
  const parameters = pathParams(route.path);
  return {
    operationId: `undocumented_${route.method}_${route.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
    summary: 'Undocumented route',
    tags: [],
    ...(parameters.length ? { parameters } : {}),
    responses: { default: { description: 'Not described in this document' } },
    'x-undocumented': true,
  };
}

/** The document of exactly these routes, with the given API version. */
export function openApiDocument(routes: readonly RouteKey[], version: string): OpenApiDocument {
  const documented = documentedPaths();
  const paths: Paths = {};
  const sorted = [...routes].sort((a, b) => (a.path === b.path ? 0 : a.path < b.path ? -1 : 1));
  for (const route of sorted) {
    const operation = documented[route.path]?.[route.method] ?? undocumented(route);
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  const schemas: Record<string, Schema> = { Error: ERROR_SCHEMA, OipError: OIP_ERROR_SCHEMA };
  for (const area of AREAS) Object.assign(schemas, area.schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Meridian',
      version,
      description:
        'The REST API of this Meridian target. Errors answer `{"error", "code", "details"}` ' +
        'with the status of their code; under `/v2`, the protocol\'s `{"error"}`.',
    },
    tags: TAGS,
    paths,
    components: { schemas },
  };
}
