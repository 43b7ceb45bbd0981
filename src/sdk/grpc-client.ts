/**
 * A TypeScript client of the feature store's gRPC service for the two streaming calls: pushing
 * event batches and uploading files. Errors come back as MeridianErrors with the server's code.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { featureStoreClass } from '../api/grpc-proto.js';
import { jsonToValue } from '../api/grpc-values.js';
import { type ErrorCode, MeridianError } from '../core/errors.js';

export interface GrpcClientOptions {
  /** `grpc://host:port` (as the platform prints it) or `host:port`. */
  url: string;
  /** Deadline of each call (default 5 minutes: an upload of a large file takes a while). */
  timeoutMs?: number;
}

/** One request of a push stream: a batch of events for a source, as JSON objects. */
export interface PushBatch {
  source: string;
  events: Record<string, unknown>[];
}

export interface PushResult {
  accepted: number;
  duplicates: number;
}

export interface UploadOptions {
  format?: 'csv' | 'parquet' | 'jsonl';
  onError?: 'reject' | 'quarantine';
  /** The name shown in errors and rejects (and that tells the format when none is given). */
  filename?: string;
}

export interface UploadResult {
  rows: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { row: number; column: string; value: string | null; reason: string }[];
}

type Messages<T> = Iterable<T> | AsyncIterable<T>;
type StreamMethod = (
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: Record<string, unknown>) => void,
) => grpc.ClientWritableStream<unknown>;

const CHUNK_BYTES = 256 * 1024;

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [grpc.status.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
};

/** A gRPC failure as a MeridianError: the server's code from its metadata, else one told from the status. */
export function fromGrpcError(err: grpc.ServiceError): MeridianError {
  const sent = err.metadata?.get('meridian-error-code')[0];
  const code = (typeof sent === 'string' ? sent : STATUS_CODES[err.code]) ?? 'INTERNAL';
  return new MeridianError(
    code as ErrorCode,
    err.details || err.message,
    { grpcStatus: err.code },
    { cause: err },
  );
}

/** The feature store's gRPC client. */
export class FeatureStoreGrpcClient {
  private readonly client: grpc.Client & Record<string, StreamMethod>;
  private readonly timeoutMs: number;

  constructor(options: GrpcClientOptions) {
    const address = options.url.replace(/^grpc:\/\//, '');
    const FeatureStore = featureStoreClass();
    this.client = new FeatureStore(address, grpc.credentials.createInsecure()) as unknown as grpc.Client &
      Record<string, StreamMethod>;
    this.timeoutMs = options.timeoutMs ?? 300_000;
  }

  /** Streams the batches in one call; resolves once all are durable, with the totals. */
  async pushEvents(batches: Messages<PushBatch>): Promise<PushResult> {
    const response = await this.stream('pushEvents', toPushRequests(batches));
    return { accepted: Number(response.accepted), duplicates: Number(response.duplicates) };
  }

  /** Uploads a file from disk, streamed in chunks. */
  uploadFile(source: string, path: string, options: UploadOptions = {}): Promise<UploadResult> {
    const chunks = createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>;
    return this.upload(source, chunks, { filename: basename(path), ...options });
  }

  /** Uploads a file given as chunks of bytes (a single Buffer is one chunk). */
  async upload(
    source: string,
    chunks: Messages<Uint8Array>,
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    const response = await this.stream('uploadFile', toUploadRequests(source, chunks, options));
    const errors = (response.errors ?? []) as Record<string, unknown>[];
    return {
      rows: Number(response.rows),
      accepted: Number(response.accepted),
      duplicates: Number(response.duplicates),
      rejected: Number(response.rejected),
      errors: errors.map((e) => ({
        row: Number(e.row),
        column: String(e.column),
        value: typeof e.value === 'string' ? e.value : null,
        reason: String(e.reason),
      })),
    };
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  /** Runs a client-streaming call, writing with backpressure until the server answers or the messages end. */
  private stream(method: string, messages: AsyncIterable<unknown>): Promise<Record<string, unknown>> {
    let answered = false;
    let call: grpc.ClientWritableStream<unknown> | undefined;
    const response = new Promise<Record<string, unknown>>((resolve, reject) => {
      call = this.client[method]!({ deadline: Date.now() + this.timeoutMs }, (err, value) => {
        answered = true;
        if (err) reject(fromGrpcError(err));
        else resolve(value);
      });
    });
    const writing = (async () => {
      for await (const message of messages) {
        if (answered) return;
        if (!call!.write(message)) await Promise.race([once(call!, 'drain'), response]);
      }
      if (!answered) call!.end();
    })();
    writing.catch(() => call!.cancel());
    return Promise.all([response, writing]).then(([value]) => value);
  }
}

async function* toPushRequests(batches: Messages<PushBatch>): AsyncIterable<unknown> {
  for await (const batch of batches) {
    yield {
      source: batch.source,
      events: batch.events.map((event) => ({
        fields: Object.fromEntries(Object.entries(event).map(([name, value]) => [name, jsonToValue(value)])),
      })),
    };
  }
}

async function* toUploadRequests(
  source: string,
  chunks: Messages<Uint8Array>,
  options: UploadOptions,
): AsyncIterable<unknown> {
  yield {
    header: {
      source,
      format: options.format ? `FILE_FORMAT_${options.format.toUpperCase()}` : 'FILE_FORMAT_UNSPECIFIED',
      on_error: options.onError === 'quarantine' ? 'ON_ERROR_QUARANTINE' : 'ON_ERROR_REJECT',
      filename: options.filename ?? '',
    },
  };
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += CHUNK_BYTES)
      yield { chunk: chunk.subarray(at, at + CHUNK_BYTES) };
  }
}
