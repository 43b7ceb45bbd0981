/**
 * A service a Meridian process runs (Loki's modules): given the process's stores and servers, it
 * starts its part, registers its routes and gRPC services, and closes once the servers have drained.
 * The platform starts the targets its config names, in dependency order, and closes them in reverse.
 */
import type { FastifyInstance } from 'fastify';
import type { GrpcSurface } from '../api/grpc.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { Stores } from '../stores/index.js';

/** What every target starts on: the process's config, stores and servers (not yet listening). */
export interface TargetContext {
  config: Config;
  logger: Logger;
  metrics: Registry;
  stores: Stores;
  http: FastifyInstance;
  grpc: GrpcSurface['server'];
}

/** A started target; `close` runs after the servers stopped taking requests, before the stores close. */
export interface RunningTarget {
  /** Runs once the servers listen, with the HTTP server's own URL (work that calls the APIs starts here). */
  onListening?(httpUrl: string): Promise<void>;
  close(): Promise<void>;
}
