import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { MeridianError, toMeridianError } from '../core/errors.js';
import { newUuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Stores } from '../stores/index.js';
import { registerOpenApiRoute } from './openapi/route.js';
import { checkReadiness } from './readiness.js';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Registry;
  stores: Stores;
  /** false while shutting down: readiness then answers 503 so load balancers stop sending. */
  isAccepting: () => boolean;
}

/** The Fastify app of one target: health, readiness, metrics, its OpenAPI document, and one error shape for every route. */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request lines go out at debug from observeRequests; info stays quiet on a busy server.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => newUuid(),
    // Lets SIGTERM finish in-flight requests but close idle keep-alive sockets at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  observeRequests(app, options.metrics, options.isAccepting);
  // First, so its onRoute hook sees every route the target registers after it, plugins included.
  registerOpenApiRoute(app);
  app.setErrorHandler((err, request, reply) => {
    const error = fromFastifyError(err);
    if (error.httpStatus >= 500) request.log.error({ err }, 'request failed');
    reply.status(error.httpStatus).send(error.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new MeridianError(
      'NOT_FOUND',
      `no route ${request.method} ${request.url}; check the method and path`,
    );
    reply.status(404).send(error.toJSON());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!options.isAccepting()) return reply.status(503).send({ status: 'shutting down', stores: {} });
    const readiness = await checkReadiness(options.stores);
    if (readiness.ready) return { status: 'ready', stores: readiness.stores };
    return reply
      .status(503)
      .send({ status: 'unavailable', error: readiness.reason, stores: readiness.stores });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.metrics.contentType);
    return options.metrics.metrics();
  });
  return app;
}

function observeRequests(app: FastifyInstance, registry: Registry, isAccepting: () => boolean): void {
  const duration = new Histogram({
    name: 'meridian_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, seconds },
      'request',
    );
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // A keep-alive socket would hold shutdown open: requests that finish while draining close theirs.
    if (!isAccepting()) reply.header('connection', 'close');
  });
}

/** Fastify's own errors (bad JSON, body too large, schema validation) become MeridianErrors too. */
function fromFastifyError(err: unknown): MeridianError {
  if (err instanceof MeridianError) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    const field = fe.validation[0]?.instancePath?.replace(/^\//, '').replaceAll('/', '.') || 'body';
    return new MeridianError('INVALID_ARGUMENT', `${field}: ${fe.validation[0]?.message ?? fe.message}`, {
      field,
    });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code =
      fe.statusCode === 413 ? 'RESOURCE_EXHAUSTED' : fe.statusCode === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT';
    return new MeridianError(code, `${fe.message}; check the request body and headers`, { field: 'body' });
  }
  return toMeridianError(err);
}
