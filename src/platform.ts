import type { FastifyInstance } from 'fastify';
import { bindGrpc, createGrpcServer, type GrpcSurface, shutdownGrpc } from './api/grpc.js';
import { registerFeatureStoreGrpc } from './api/grpc-features.js';
import { createHttpServer } from './api/http.js';
import { registerOipGrpc } from './api/oip-grpc.js';
import { registerOipRoutes } from './api/oip-rest.js';
import { registerFeatureRoutes } from './api/routes/features.js';
import { registerModelStatsRoutes } from './api/routes/model-stats.js';
import { registerModelRoutes } from './api/routes/models.js';
import { registerPredictRoutes } from './api/routes/predict.js';
import type { Config } from './core/config.js';
import { createLogger, type Logger } from './core/logger.js';
import { createMetricsRegistry, type Registry } from './core/metrics.js';
import { FeatureRegistry } from './features/registry.js';
import { type FeatureStore, startFeatureStore } from './features/service.js';
import { type InferenceObserver, observeAll } from './serving/inference-observation.js';
import { LatencyStats } from './serving/latency.js';
import { PredictionLog } from './serving/prediction-log.js';
import { PredictionSink } from './serving/prediction-sink.js';
import { type ModelServing, startModelServing, workerOptions } from './serving/service.js';
import type { Stores } from './stores/index.js';
import { closeStores, openStores } from './stores/open.js';

export interface PlatformOptions {
  logger?: Logger;
  metrics?: Registry;
}

/**
 * One running target: its stores, its HTTP and gRPC servers. The same class runs `--target all` in
 * one process and any single target alone, so both modes share every code path.
 */
export class Platform {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly metrics: Registry,
    readonly stores: Stores,
    private readonly http: FastifyInstance,
    private readonly grpc: GrpcSurface,
    /** Shared with the servers: false once shutdown begins, so readiness turns 503. */
    private readonly gate: { accepting: boolean },
    private readonly features: FeatureStore | undefined,
    private readonly serving: ModelServing | undefined,
    /** Where the servers listen, with the ports actually bound. */
    readonly httpUrl: string,
    readonly grpcUrl: string,
    /** The prediction log and its offline sink, closed after the servers and before the stores. */
    private readonly telemetry: { close(): Promise<void> }[],
  ) {}

  /** Opens the target's stores and starts its servers; on failure closes whatever it opened. */
  static async start(config: Config, options: PlatformOptions = {}): Promise<Platform> {
    const logger = options.logger ?? createLogger(config.logLevel);
    const metrics = options.metrics ?? createMetricsRegistry();
    const stores = await openStores(config, logger);
    const gate = { accepting: true };
    const isAccepting = () => gate.accepting;
    let http: FastifyInstance | undefined;
    let grpc: GrpcSurface | undefined;
    let features: FeatureStore | undefined;
    let serving: ModelServing | undefined;
    const telemetry: { close(): Promise<void> }[] = [];
    let predictObserver: InferenceObserver | undefined;
    try {
      http = createHttpServer({ logger, metrics, stores, isAccepting });
      grpc = createGrpcServer({ logger, stores, isAccepting });
      if (config.target === 'all' || config.target === 'features') {
        features = await startFeatureStore(stores, logger, {
          transformThreads: config.features.transformThreads,
          consumeEvents: config.features.consumeEvents && config.eventStream.startsWith('nats'),
        });
        registerFeatureRoutes(http, features, stores);
        registerFeatureGrpc(grpc.server, features, stores, logger);
        if (stores.stream && stores.offline)
          telemetry.push(await PredictionSink.start(stores.stream, stores.offline, logger));
      }
      if (config.target === 'all' || config.target === 'serving') {
        serving = await startModelServing(stores, logger, { workers: workerOptions(config.serving) });
        registerModelRoutes(http, { registry: serving.registry });
        const latency = new LatencyStats(metrics);
        const log = stores.stream ? await PredictionLog.start(stores.stream, metrics, logger) : undefined;
        if (log) telemetry.push(log);
        const observer = observeAll(latency, log);
        registerModelStatsRoutes(http, { latency, registry: serving.registry });
        registerOipRoutes(http, { resolver: serving.resolver, observer });
        registerOipGrpc(grpc.server, { resolver: serving.resolver, observer });
        predictObserver = observer;
      }
      await registerPredict(http, { serving, features, stores, observer: predictObserver });
      await http.listen({ host: config.http.host, port: config.http.port });
      const grpcPort = await bindGrpc(grpc.server, config.grpc.host, config.grpc.port);
      const httpPort = (http.server.address() as { port: number }).port;
      const shown = displayHost(config.http.host);
      return new Platform(
        config,
        logger,
        metrics,
        stores,
        http,
        grpc,
        gate,
        features,
        serving,
        `http://${shown}:${httpPort}`,
        `grpc://${displayHost(config.grpc.host)}:${grpcPort}`,
        telemetry,
      );
    } catch (err) {
      await http?.close().catch(() => undefined);
      grpc?.server.forceShutdown();
      await Promise.all(telemetry.map((t) => t.close().catch(() => undefined)));
      await serving?.close().catch(() => undefined);
      await features?.close().catch(() => undefined);
      await closeStores(stores, logger);
      throw err;
    }
  }

  /** Stops taking work, drains in-flight requests, then closes the stores. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.drainAndClose();
    return this.stopping;
  }

  private async drainAndClose(): Promise<void> {
    this.gate.accepting = false;
    const timeout = this.config.shutdownTimeoutMs;
    this.logger.info({ timeoutMs: timeout }, 'draining');
    this.grpc.endStreams();
    try {
      await Promise.all([this.closeHttp(timeout), shutdownGrpc(this.grpc.server, timeout)]);
      await Promise.all(this.telemetry.map((t) => t.close()));
      await this.serving?.close();
      await this.features?.close();
    } finally {
      await closeStores(this.stores, this.logger);
    }
    this.logger.info('stopped');
  }

  /** Waits for in-flight requests up to timeoutMs, then cuts the connections still open. */
  private async closeHttp(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const closing = this.http.close();
    const outcome = await Promise.race([closing.then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(
        { timeoutMs },
        'requests still running after the shutdown timeout; closing their connections',
      );
      this.http.server.closeAllConnections();
      await closing;
    }
  }
}

/** The feature store's gRPC service, on the same stores and registry as its REST routes. */
function registerFeatureGrpc(
  server: GrpcSurface['server'],
  features: FeatureStore,
  stores: Stores,
  logger: Logger,
) {
  if (!stores.offline || !stores.online) return;
  registerFeatureStoreGrpc(server, {
    ingestor: features.ingestor,
    catalog: features.registry,
    transforms: features.transforms,
    offline: stores.offline,
    online: stores.online,
    logger: logger.child({ service: 'features' }),
  });
}

/**
 * Hydrating prediction wherever the model server runs beside an online store: on `all` over the
 * feature store's own registry; on `serving` over the shared one, reloaded as other processes apply.
 */
async function registerPredict(
  http: FastifyInstance,
  on: { serving?: ModelServing; features?: FeatureStore; stores: Stores; observer?: InferenceObserver },
): Promise<void> {
  const { serving, features, stores, observer } = on;
  if (!serving || !stores.online || !stores.state) return;
  const deps = {
    resolver: serving.resolver,
    registry: serving.registry,
    online: stores.online,
    ...(observer ? { observer } : {}),
  };
  if (features) {
    registerPredictRoutes(http, { ...deps, catalog: features.registry });
    return;
  }
  const catalog = await FeatureRegistry.open(stores.state);
  registerPredictRoutes(http, { ...deps, catalog, refreshCatalog: () => catalog.refresh() });
}

/** 0.0.0.0 and :: are where we listen, not where a client connects. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
