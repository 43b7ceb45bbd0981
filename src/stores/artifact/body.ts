/** Turns every accepted artifact body into one byte stream, without reading it whole. */
import { Readable } from 'node:stream';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { ArtifactBody } from './port.js';

const HINT = 'pass a Buffer, Uint8Array, string, Readable or async iterable of Uint8Array';

/**
 * A byte-mode Readable over the body; throws INVALID_ARGUMENT naming `body` for anything else. A body
 * stream that fails mid-way makes the Readable fail with INVALID_ARGUMENT naming `body` and the path,
 * so callers can tell the caller's stream breaking from the store failing.
 */
export function bodyToReadable(body: ArtifactBody, path: string): Readable {
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')], { objectMode: false });
  if (body instanceof Uint8Array) return Readable.from([asBuffer(body)], { objectMode: false });
  if (body instanceof Readable && (body.destroyed || body.readableEnded)) {
    throw invalidArgument('body', 'is a stream that already ended or was destroyed', HINT);
  }
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    return Readable.from(bytes(body, path), { objectMode: false });
  }
  throw invalidArgument('body', `is ${body === null ? 'null' : typeof body}`, HINT);
}

/** Reads a stream to the end into one Buffer: only for artifacts known to be small. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* bytes(source: AsyncIterable<unknown>, path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) {
      if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
      else if (chunk instanceof Uint8Array) yield asBuffer(chunk);
      else throw invalidArgument('body', `yielded a chunk of type ${typeof chunk}`, HINT);
    }
  } catch (err) {
    if (err instanceof MeridianError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `body: reading the body for ${path} failed (${reason}); nothing was stored, put it again`,
      { field: 'body', path },
      { cause: err },
    );
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The content type from put's options, if any; INVALID_ARGUMENT naming `options.contentType` when malformed. */
export function validateContentType(options: { contentType?: string } | undefined): string | undefined {
  const value: unknown = options?.contentType;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[\w.+-]+\/[\w.+-]+(;[ -~]*)?$/.test(value) || value.length > 255) {
    throw invalidArgument(
      'options.contentType',
      `${JSON.stringify(value)} is not a media type`,
      'e.g. application/octet-stream',
    );
  }
  return value;
}
