import type { Readable } from 'node:stream';
import type { Store } from '../store.js';

export interface ArtifactInfo {
  /** Relative, slash-separated path inside the store, e.g. `models/churn/3/model.onnx`. */
  path: string;
  size: number;
  /** Hex SHA-256 of the content, recorded on put and checked on every read. */
  sha256: string;
  updatedAt: Date;
}

export type ArtifactBody = Readable | AsyncIterable<Uint8Array> | Uint8Array | string;

/** Model files, baselines and datasets. Bodies stream: nothing holds a whole file in memory. */
export interface ArtifactStore extends Store {
  put(path: string, body: ArtifactBody, options?: { contentType?: string }): Promise<ArtifactInfo>;
  /** A stream of the content that errors with DATA_CORRUPT if it does not match its recorded hash. */
  get(path: string): Promise<Readable>;
  /** Convenience for small artifacts; hash checked. */
  getBuffer(path: string): Promise<Buffer>;
  stat(path: string): Promise<ArtifactInfo | null>;
  /** Artifacts whose path starts with prefix, sorted by path. */
  list(prefix?: string): Promise<ArtifactInfo[]>;
  /** Resolves to false when there was nothing to delete. */
  delete(path: string): Promise<boolean>;
}
