/**
 * `UploadFile`: a header, then the file's bytes in chunks. The bytes are streamed to a temp file
 * (never held whole in memory, cut off past the size limit) and loaded by the same file loader,
 * limit and rejection rules as `POST /v1/sources/{source}/files`.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { invalidArgument, MeridianError } from '../core/errors.js';
import { type FileFormat, resolveFormat } from '../features/ingest/files/format.js';
import type { FileLoader, FileLoadResult, OnError } from '../features/ingest/files/load.js';
import type { RowError } from '../features/ingest/files/validate.js';
import { DEFAULT_MAX_FILE_BYTES, rejectedWholeMessage, tooLarge, withUploadDir } from './routes/files.js';

export interface UploadHeader {
  source: string;
  format: string;
  on_error: string;
  filename: string;
}

export type UploadFileRequest =
  | { part?: 'header'; header?: UploadHeader }
  | { part?: 'chunk'; chunk?: Buffer };

export interface UploadDeps {
  loader: FileLoader;
  /** Largest file accepted, in bytes (default the REST route's, 1 GiB). */
  maxFileBytes?: number;
  /** Where uploads are saved while they load (default the OS temp directory). */
  tmpDir?: string;
}

const FORMATS: Record<string, FileFormat | undefined> = {
  FILE_FORMAT_CSV: 'csv',
  FILE_FORMAT_PARQUET: 'parquet',
  FILE_FORMAT_JSONL: 'jsonl',
};

const ON_ERROR: Record<string, OnError> = {
  ON_ERROR_UNSPECIFIED: 'reject',
  ON_ERROR_REJECT: 'reject',
  ON_ERROR_QUARANTINE: 'quarantine',
};

/** How many row errors a whole-file rejection quotes in its message. */
const QUOTED_ERRORS = 5;

/** Runs one UploadFile call; resolves to the load's counts, or rejects as the REST route would refuse. */
export async function uploadFileStream(
  deps: UploadDeps,
  requests: AsyncIterable<UploadFileRequest>,
): Promise<Omit<FileLoadResult, 'rejectedWhole'>> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  const header = first.done || first.value.part !== 'header' ? undefined : first.value.header;
  if (!header) {
    throw invalidArgument(
      'requests[0].header',
      'is missing',
      'send an UploadHeader first, then the file in chunks',
    );
  }
  deps.loader.checkSource(header.source);
  const name = header.filename || 'upload';
  const format = resolveFormat(name, undefined, FORMATS[header.format]);
  const onError = ON_ERROR[header.on_error] ?? 'reject';
  return withUploadDir(deps.tmpDir, async (dir) => {
    const path = join(dir, 'upload');
    await saveChunks(iterator, path, deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
    const { rejectedWhole, ...result } = await deps.loader.load(
      header.source,
      { path, name, format },
      onError,
    );
    if (rejectedWhole) {
      const message = rejectedWholeMessage(
        name,
        header.source,
        result.rejected,
        'on_error ON_ERROR_QUARANTINE',
      );
      throw new MeridianError('INVALID_ARGUMENT', `${message}; first errors: ${quoted(result.errors)}`, {
        field: 'file',
        ...result,
      });
    }
    return result;
  });
}

/** Writes every chunk to `path` with backpressure; RESOURCE_EXHAUSTED as soon as the limit is passed. */
async function saveChunks(
  iterator: AsyncIterator<UploadFileRequest>,
  path: string,
  limit: number,
): Promise<void> {
  const out = createWriteStream(path);
  try {
    let bytes = 0;
    for (let i = 1, next = await iterator.next(); !next.done; i++, next = await iterator.next()) {
      const request = next.value;
      if (request.part !== 'chunk') {
        throw invalidArgument(
          `requests[${i}].header`,
          'is a second header',
          'send the header once, then only chunks',
        );
      }
      const chunk = request.chunk ?? Buffer.alloc(0);
      bytes += chunk.length;
      if (bytes > limit) throw tooLarge(limit);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
}

function quoted(errors: readonly RowError[]): string {
  return errors
    .slice(0, QUOTED_ERRORS)
    .map(
      (e) => `row ${e.row} ${e.column} ${e.value === null ? 'null' : JSON.stringify(e.value)}: ${e.reason}`,
    )
    .join('; ');
}
