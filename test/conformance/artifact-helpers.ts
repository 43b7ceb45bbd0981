/** Helpers of the artifact store conformance suite: error assertions, generated bodies, memory sampling. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const PATTERN = Buffer.from(Array.from({ length: CHUNK }, (_, i) => (i * 131 + 17) & 0xff));

/** Node's own sha256 of the bytes, the reference every recorded hash is compared with. */
export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Reads a stream to its end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A deterministic body of `size` bytes generated on the fly, never whole; `hash()` is its sha256 once read. */
export function generatedBody(size: number): { body: AsyncIterable<Uint8Array>; hash: () => string } {
  const hash = createHash('sha256');
  let digest = '';
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let offset = 0, index = 0; offset < size; offset += CHUNK, index++) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - offset));
      PATTERN.copy(chunk);
      chunk.writeUInt32BE(index >>> 0, 0);
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return { body: chunks(), hash: () => digest };
}

/** Samples heap and ArrayBuffer memory until stopped; reports the largest growth over the starting values. */
export function memoryWatch(): { stop: () => { heapMiB: number; arrayBuffersMiB: number } } {
  const start = process.memoryUsage();
  let heap = start.heapUsed;
  let arrayBuffers = start.arrayBuffers;
  const sample = (): void => {
    const now = process.memoryUsage();
    heap = Math.max(heap, now.heapUsed);
    arrayBuffers = Math.max(arrayBuffers, now.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return {
        heapMiB: (heap - start.heapUsed) / MiB,
        arrayBuffersMiB: (arrayBuffers - start.arrayBuffers) / MiB,
      };
    },
  };
}
