/**
 * The Open Inference Protocol v2 over REST under `/v2`: health, server and model metadata,
 * readiness and inference, with Triton's binary tensor data extension. Errors answer in the
 * protocol's format, `{"error": "..."}`, with the status of the one table in core/errors.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MeridianError, toMeridianError } from '../core/errors.js';
import { encodeRestInferResponse, HEADER_LENGTH, parseRestInferRequest } from '../serving/tensors-binary.js';
import {
  infer,
  modelMetadata,
  type OipDeps,
  parseVersion,
  serverMetadata,
  serverReady,
} from './oip-model.js';

export type { OipDeps } from './oip-model.js';

/** Largest inference request body accepted, in bytes. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

interface ModelParams {
  model: string;
  version?: string;
}

/** Registers the OIP v2 routes under `/v2`. */
export function registerOipRoutes(app: FastifyInstance, deps: OipDeps): void {
  void app.register(
    async (scope) => {
      // Every body arrives as bytes: binary tensor data is not JSON, and parsing JSON here lets a
      // malformed body answer in the protocol's error format.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
        (_request, body, done) => done(null, body),
      );
      scope.setErrorHandler((err, request, reply) => {
        const error = oipError(err);
        if (error.httpStatus >= 500) request.log.error({ err }, 'inference request failed');
        return reply.status(error.httpStatus).send({ error: error.message });
      });
      scope.setNotFoundHandler((request, reply) =>
        reply
          .status(404)
          .send({ error: `no route ${request.method} ${request.url}; check the method and path` }),
      );
      registerHealth(scope, deps);
      registerModels(scope, deps);
    },
    { prefix: '/v2' },
  );
}

function registerHealth(scope: FastifyInstance, deps: OipDeps): void {
  scope.get('/health/live', async () => ({ live: true }));
  scope.get('/health/ready', async (_request, reply) => readiness(reply, await serverReady(deps.resolver)));
  scope.get('/', async () => serverMetadata());
}

function registerModels(scope: FastifyInstance, deps: OipDeps): void {
  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const { model, version } = request.params;
    return modelMetadata(await deps.resolver.resolve(model, parseVersion(version)));
  };
  const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    return readiness(reply, await deps.resolver.isReady(model, parseVersion(version)));
  };
  const inference = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    const header = request.headers[HEADER_LENGTH];
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await infer(deps, 'rest', model, parseVersion(version), () =>
      parseRestInferRequest(body, Array.isArray(header) ? header[0] : header),
    );
    const { id, binaryOutput } = result.request;
    const encoded = encodeRestInferResponse(
      {
        modelName: result.served.name,
        modelVersion: String(result.served.version),
        ...(id !== undefined ? { id } : {}),
        outputs: result.outputs,
      },
      binaryOutput,
    );
    if (encoded.headerLength === undefined) return reply.type('application/json').send(encoded.body);
    return reply
      .header(HEADER_LENGTH, String(encoded.headerLength))
      .type('application/octet-stream')
      .send(encoded.body);
  };
  for (const base of ['/models/:model', '/models/:model/versions/:version']) {
    scope.get(base, metadata);
    scope.get(`${base}/ready`, ready);
    scope.post(`${base}/infer`, inference);
  }
}

/** OIP health answers: 200 for true, a 4xx status for false, as the protocol specifies. */
function readiness(reply: FastifyReply, ready: boolean) {
  return reply.status(ready ? 200 : 400).send({ ready });
}

/** Fastify's own errors (body too large, bad content length) become MeridianErrors too. */
function oipError(err: unknown): MeridianError {
  if (err instanceof MeridianError) return err;
  const fe = err as Partial<FastifyError>;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.statusCode === 413 ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT';
    return new MeridianError(code, `${fe.message}; check the request body and headers`, { field: 'body' });
  }
  return toMeridianError(err);
}
