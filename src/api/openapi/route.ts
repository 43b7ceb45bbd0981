/**
 * `GET /openapi.json`: the OpenAPI document of the routes this target actually registered, seen
 * through Fastify's `onRoute` hook, so `features`, `serving` and `all` each list what they serve.
 */
import type { FastifyInstance } from 'fastify';
import { serverMetadata } from '../oip-model.js';
import type { Method } from './common.js';
import {
  documentedPaths,
  type OpenApiDocument,
  openApiDocument,
  openApiPath,
  type RouteKey,
} from './document.js';

export interface OpenApiRouteOptions {
  /** The API version the document states (default the package version). */
  version?: string;
}

const METHODS = new Set<string>(['get', 'post', 'put', 'patch', 'delete']);

/**
 * Collects every route registered after it and serves their document at `/openapi.json`. Call it
 * on the root instance before any other route, so child plugins inherit the hook.
 */
export function registerOpenApiRoute(app: FastifyInstance, options: OpenApiRouteOptions = {}): void {
  const routes: RouteKey[] = [];
  // HEAD routes Fastify adds for GET, and OPTIONS, are not operations of their own.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const lower = method.toLowerCase();
      if (METHODS.has(lower)) routes.push({ method: lower as Method, path: openApiPath(route.url) });
    }
  });
  let document: OpenApiDocument | undefined;
  const build = () => openApiDocument(routes, options.version ?? serverMetadata().version);
  app.addHook('onReady', async () => {
    document = build();
    const documented = documentedPaths();
    for (const { method, path } of routes) {
      if (!documented[path]?.[method]) {
        app.log.warn({ method: method.toUpperCase(), path }, 'route missing from the OpenAPI document');
      }
    }
  });
  app.get('/openapi.json', async () => document ?? build());
}
