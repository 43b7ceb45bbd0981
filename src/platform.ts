import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { bindGrpc, createGrpcServer, shutdownGrpc } from './api/grpc.js';
import { createHttpServer } from './api/http.js';
import type { Config } from './core/config.js';
import { createLogger, type Logger } from './core/logger.js';
import { createMetricsRegistry, type Registry } from './core/metrics.js';
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
    private readonly grpc: GrpcServer,
    /** Shared with the servers: false once shutdown begins, so readiness turns 503. */
    private readonly gate: { accepting: boolean },
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
    const http = createHttpServer({ logger, metrics, stores, isAccepting });
    const grpc = createGrpcServer({ logger, stores, isAccepting });
    try {
      await http.listen({ host: config.http.host, port: config.http.port });
      const grpcPort = await bindGrpc(grpc, config.grpc.host, config.grpc.port);
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
        `http://${shown}:${httpPort}`,
        `grpc://${displayHost(config.grpc.host)}:${grpcPort}`,
      );
    } catch (err) {
      await http.close().catch(() => undefined);
      grpc.forceShutdown();
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
    await Promise.all([this.http.close(), shutdownGrpc(this.grpc, timeout)]);
    await closeStores(this.stores, this.logger);
    this.logger.info('stopped');
  }
}

/** 0.0.0.0 and :: are where we listen, not where a client connects. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
