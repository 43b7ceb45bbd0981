import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { HashingStream, verified } from './hashing.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const chunks = (...parts: string[]): Readable => Readable.from(parts.map((p) => Buffer.from(p)));

async function drain(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('HashingStream', () => {
  it('passes bytes through unchanged and reports their sha256 and size', async () => {
    const hasher = new HashingStream();
    const [out] = await Promise.all([drain(hasher), pipeline(chunks('ab', 'cd', ''), hasher)]);
    expect(out.toString()).toBe('abcd');
    expect(hasher.digest()).toEqual({ sha256: sha(Buffer.from('abcd')), size: 4 });
  });

  it('refuses to report a digest before the stream ended', () => {
    expect(() => new HashingStream().digest()).toThrow(/before the stream ended/);
  });
});

describe('verified', () => {
  const expected = { sha256: sha(Buffer.from('hello world')), size: 11 };

  it('delivers matching content whole', async () => {
    expect((await drain(verified(chunks('hello', ' world'), expected, 'p'))).toString()).toBe('hello world');
  });

  it.each([
    ['same size, other bytes', ['hello', ' World']],
    ['fewer bytes', ['hello']],
    ['more bytes', ['hello world', '!']],
  ])('errors with DATA_CORRUPT naming the path on %s', async (_case, parts) => {
    const err = await drain(verified(chunks(...parts), expected, 'models/m.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('DATA_CORRUPT');
    expect((err as MeridianError).message).toContain('models/m.bin');
  });

  it('holds back the last chunk, so corrupt content never reaches its end without the error', async () => {
    const seen: string[] = [];
    const stream = verified(chunks('hello', ' World'), expected, 'p');
    stream.on('data', (c: Buffer) => seen.push(c.toString()));
    await new Promise((resolve) => stream.on('error', resolve));
    expect(seen).toEqual(['hello']);
  });
});
