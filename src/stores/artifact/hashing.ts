/** Streaming SHA-256: computed as bytes pass on write, checked as bytes pass on read. */
import { createHash, type Hash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { MeridianError } from '../../core/errors.js';

/** What a put records about the content. */
export interface ContentDigest {
  sha256: string;
  size: number;
}

/** A pass-through that hashes and counts what flows through it; read `digest()` after it ends. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private result: ContentDigest | null = null;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = { sha256: this.hash.digest('hex'), size: this.size };
    callback();
  }

  /** The hash and byte count of everything that passed; throws if the stream has not ended. */
  digest(): ContentDigest {
    if (!this.result) throw new Error('HashingStream.digest() called before the stream ended');
    return this.result;
  }
}

/**
 * A pass-through that errors with DATA_CORRUPT when the bytes that passed do not match `expected`:
 * as soon as more bytes than recorded arrive, otherwise at the end. The last chunk is held back until
 * the check passes, so a consumer never sees the end of corrupt content without the error.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private held: Buffer | null = null;

  constructor(
    private readonly expected: ContentDigest,
    private readonly label: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.size > this.expected.size) {
      callback(this.corrupt(`it has more than the recorded ${this.expected.size} bytes`));
      return;
    }
    const previous = this.held;
    this.held = chunk;
    callback(null, previous ?? undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.size !== this.expected.size) {
      callback(this.corrupt(`it has ${this.size} bytes, ${this.expected.size} were recorded`));
      return;
    }
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.sha256) {
      callback(this.corrupt(`its sha256 is ${actual}, ${this.expected.sha256} was recorded`));
      return;
    }
    callback(null, this.held ?? undefined);
  }

  private corrupt(problem: string): MeridianError {
    return new MeridianError(
      'DATA_CORRUPT',
      `artifact ${this.label} is corrupt: ${problem}; it was changed outside the store, put it again`,
      { path: this.label, expectedSha256: this.expected.sha256, expectedSize: this.expected.size },
    );
  }
}

/** The source's content behind a VerifyingStream; destroying the result releases the source. */
export function verified(source: Readable, expected: ContentDigest, label: string): Readable {
  const verifier = new VerifyingStream(expected, label);
  // Errors surface on the returned stream; the callback only keeps pipeline from throwing them again.
  pipeline(source, verifier, () => {});
  return verifier;
}
