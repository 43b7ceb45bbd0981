import type { FastifyInstance } from 'fastify';
import { bindGrpc, createGrpcServer, type GrpcSurface, shutdownGrpc } from './api/grpc.js';
import { createHttpServer } from './api/http.js';
import type { Config } from './core/config.js';
import { createLogger, type Logger } from './core/logger.js';
import { createMetricsRegistry, type Registry } from './core/metrics.js';
import type { FeatureStore } from './features/service.js';
import type { ModelServing } from './serving/service.js';
import type { Stores } from './stores/index.js';
import { closeStores, openStores } from './stores/open.js';
import { type FeaturesTarget, startFeaturesTarget } from './targets/features.js';
import { startMonitoringTarget } from './targets/monitoring.js';
import { startPipelinesTarget } from './targets/pipelines.js';
import { registerHydratedPredict } from './targets/predict.js';
import { type ServingTarget, startServingTarget } from './targets/serving.js';
import type { RunningTarget, TargetContext } from './targets/target.js';

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
    /** The started targets, in start order; closed in reverse after the servers, before the stores. */
    private readonly targets: RunningTarget[],
    readonly features: FeatureStore | undefined,
    readonly serving: ModelServing | undefined,
    /** Where the servers listen, with the ports actually bound. */
    readonly httpUrl: string,
    readonly grpcUrl: string,
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
    const targets: RunningTarget[] = [];
    try {
      http = createHttpServer({ logger, metrics, stores, isAccepting });
      grpc = createGrpcServer({ logger, stores, isAccepting });
      const ctx: TargetContext = { config, logger, metrics, stores, http, grpc: grpc.server };
      const runs = (target: string) => config.target === 'all' || config.target === target;
      let features: FeaturesTarget | undefined;
      let serving: ServingTarget | undefined;
      if (runs('features')) {
        features = await startFeaturesTarget(ctx);
        targets.push(features);
      }
      if (runs('serving')) {
        serving = await startServingTarget(ctx);
        targets.push(serving);
      }
      if (runs('monitoring')) targets.push(await startMonitoringTarget(ctx, serving));
      if (runs('pipelines')) targets.push(await startPipelinesTarget(ctx));
      await registerHydratedPredict(ctx, serving, features);
      await http.listen({ host: config.http.host, port: config.http.port });
      const grpcPort = await bindGrpc(grpc.server, config.grpc.host, config.grpc.port);
      const httpPort = (http.server.address() as { port: number }).port;
      const selfUrl = `http://${displayHost(config.http.host)}:${httpPort}`;
      for (const target of targets) await target.onListening?.(selfUrl);
      return new Platform(
        config,
        logger,
        metrics,
        stores,
        http,
        grpc,
        gate,
        targets,
        features?.features,
        serving?.serving,
        `http://${displayHost(config.http.host)}:${httpPort}`,
        `grpc://${displayHost(config.grpc.host)}:${grpcPort}`,
      );
    } catch (err) {
      await http?.close().catch(() => undefined);
      grpc?.server.forceShutdown();
      await closeTargets(targets).catch(() => undefined);
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
      await closeTargets(this.targets);
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

/** Closes targets in reverse start order; every one is closed even when an earlier one fails. */
async function closeTargets(targets: readonly RunningTarget[]): Promise<void> {
  let failure: unknown;
  for (const target of [...targets].reverse()) {
    await target.close().catch((err: unknown) => {
      failure ??= err;
    });
  }
  if (failure) throw failure;
}

/** 0.0.0.0 and :: are where we listen, not where a client connects. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
