import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { toMeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Stores } from '../stores/index.js';
import { checkReadiness } from './readiness.js';

/** proto/ sits at the package root, two levels above both src/api and dist/api. */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Loads a .proto under proto/ into a grpc-js package definition. */
export function loadProto(relativePath: string): grpc.GrpcObject {
  const definition = protoLoader.loadSync(join(PROTO_DIR, relativePath), {
    ...LOADER_OPTIONS,
    includeDirs: [PROTO_DIR],
  });
  return grpc.loadPackageDefinition(definition);
}

/** The gRPC form of any error: status code from the one table in core/errors, message unchanged. */
export function toGrpcError(err: unknown): Partial<grpc.ServiceError> {
  const error = toMeridianError(err);
  const metadata = new grpc.Metadata();
  metadata.set('meridian-error-code', error.code);
  return { code: error.grpcStatus, details: error.message, metadata };
}

export interface GrpcServerOptions {
  logger: Logger;
  stores: Stores;
  isAccepting: () => boolean;
}

/** A target's gRPC server and how to end its long-lived streams when shutdown begins. */
export interface GrpcSurface {
  server: grpc.Server;
  /** Answers NOT_SERVING on every open health Watch and ends it, so a graceful shutdown is not held open. */
  endStreams(): void;
}

/** The gRPC server of one target; services are added by the services that own them. */
export function createGrpcServer(options: GrpcServerOptions): GrpcSurface {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const watches = new Set<grpc.ServerWritableStream<{ service: string }, unknown>>();
  const health = loadProto('grpc/health/v1/health.proto') as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const status = async (): Promise<string> => {
    if (!options.isAccepting()) return 'NOT_SERVING';
    return (await checkReadiness(options.stores)).ready ? 'SERVING' : 'NOT_SERVING';
  };
  server.addService(health.grpc.health.v1.Health.service, {
    check: (
      call: grpc.ServerUnaryCall<{ service: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      if (call.request.service !== '' && call.request.service !== 'meridian') {
        callback({
          code: grpc.status.NOT_FOUND,
          details: `unknown service "${call.request.service}"; ask for "" or "meridian"`,
        });
        return;
      }
      status().then(
        (s) => callback(null, { status: s }),
        (err) => callback(toGrpcError(err)),
      );
    },
    watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
      // One answer per check interval until the client goes away: enough for probes and dashboards.
      const send = () => status().then((s) => call.write({ status: s }));
      void send();
      const timer = setInterval(send, 5000);
      watches.add(call);
      const forget = () => {
        clearInterval(timer);
        watches.delete(call);
      };
      call.on('cancelled', forget);
      call.on('close', forget);
      call.on('finish', forget);
    },
  });
  const endStreams = () => {
    for (const call of watches) {
      call.write({ status: 'NOT_SERVING' });
      call.end();
    }
    watches.clear();
  };
  return { server, endStreams };
}

/** Binds host:port (0 picks a free port) and resolves to the bound port. */
export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}

/** Lets in-flight calls finish, then forces the rest closed after timeoutMs. */
export function shutdownGrpc(server: grpc.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
