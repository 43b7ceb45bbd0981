/**
 * A Meridian serving target assembled for OIP v2 tests from real pieces: the HTTP and gRPC servers,
 * the OIP registrations, and a resolver over fixture models loaded with the real runtime loaders.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { bindGrpc, createGrpcServer, type GrpcSurface, shutdownGrpc } from '../../src/api/grpc.js';
import { createHttpServer } from '../../src/api/http.js';
import { registerOipGrpc } from '../../src/api/oip-grpc.js';
import { registerOipRoutes } from '../../src/api/oip-rest.js';
import { MeridianError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { ModelResolver, ServedModel } from '../../src/serving/resolver.js';
import { loadModel } from '../../src/serving/runtimes/index.js';
import type { FixtureModel } from './oip-fixtures.js';

/** Every fixture is served as version 3, so tests can tell a version path from the default. */
export const FIXTURE_VERSION = 3;

/** A resolver over models held in memory; names in `loading` exist but are not ready yet. */
export class FixtureResolver implements ModelResolver {
  constructor(
    private readonly models: Map<string, ServedModel>,
    private readonly loading: Set<string> = new Set(),
  ) {}

  async resolve(name: string, version?: number): Promise<ServedModel> {
    if (this.loading.has(name)) {
      throw new MeridianError('UNAVAILABLE', `model "${name}" is still loading; retry in a few seconds`);
    }
    const served = this.models.get(name);
    if (!served)
      throw new MeridianError('NOT_FOUND', `model "${name}" not found; list models with GET /v1/models`);
    if (version !== undefined && version !== served.version) {
      throw new MeridianError(
        'NOT_FOUND',
        `model "${name}" has no version ${version}; list its versions with GET /v1/models/${name}`,
      );
    }
    return served;
  }

  async isReady(name: string, version?: number): Promise<boolean> {
    if (this.loading.has(name)) return false;
    await this.resolve(name, version);
    return true;
  }

  async served(): Promise<string[]> {
    return [...this.models.keys(), ...this.loading];
  }
}

/** Loads fixture models with the runtime of their format, warmed up by one inference of a row of zeros. */
export async function loadFixtures(fixtures: FixtureModel[]): Promise<Map<string, ServedModel>> {
  const models = new Map<string, ServedModel>();
  for (const fixture of fixtures) {
    const model = await loadModel(fixture.format, readFileSync(fixture.modelPath));
    await model.predict({ rows: 1, values: new Float64Array(model.signature.featureCount) });
    models.set(fixture.name, { name: fixture.name, version: FIXTURE_VERSION, model });
  }
  return models;
}

export interface OipServer {
  app: FastifyInstance;
  restUrl: string;
  grpcAddress: string;
  close(): Promise<void>;
}

/** Starts HTTP and gRPC on free loopback ports with the OIP v2 surfaces over `resolver`. */
export async function startOipServer(resolver: ModelResolver): Promise<OipServer> {
  const app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: {},
    isAccepting: () => true,
  });
  registerOipRoutes(app, { resolver });
  const restUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const surface: GrpcSurface = createGrpcServer({
    logger: silentLogger,
    stores: {},
    isAccepting: () => true,
  });
  registerOipGrpc(surface.server, { resolver });
  const port = await bindGrpc(surface.server, '127.0.0.1', 0);
  return {
    app,
    restUrl,
    grpcAddress: `127.0.0.1:${port}`,
    close: async () => {
      await shutdownGrpc(surface.server, 2000);
      await app.close();
    },
  };
}
