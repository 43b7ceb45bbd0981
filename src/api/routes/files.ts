/**
 * File ingestion over REST: `POST /v1/sources/:source/files`, multipart with a `file` part and
 * optional `format` (csv|parquet|jsonl) and `onError` (reject|quarantine) fields. The upload is
 * streamed to a temp file, never held in memory, then loaded set-based by the file loader. A file
 * rejected whole answers 400 with the same counts and errors as a load, plus `error`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import { resolveFormat } from '../../features/ingest/files/format.js';
import {
  createFileLoader,
  type FileLoader,
  type FileLoaderOptions,
  type OnError,
  rejectsTable,
} from '../../features/ingest/files/load.js';

/** The stores and catalog the loader writes through, plus the route's limits. */
export interface FileRouteDeps extends FileLoaderOptions {
  /** Largest file accepted, in bytes (default 1 GiB). */
  maxFileBytes?: number;
  /** Where uploads are saved while they load (default the OS temp directory). */
  tmpDir?: string;
}

const GIB = 1024 ** 3;

/** The largest upload accepted when none is configured, over REST and gRPC alike. */
export const DEFAULT_MAX_FILE_BYTES = GIB;

interface Upload {
  path: string;
  name: string;
  contentType: string;
  fields: Record<string, string>;
}

/** RESOURCE_EXHAUSTED for an upload past `limit` bytes. */
export function tooLarge(limit: number): MeridianError {
  const size = limit >= GIB ? `${limit / GIB} GiB` : `${limit} bytes`;
  return new MeridianError(
    'RESOURCE_EXHAUSTED',
    `file: the upload is larger than the limit of ${size}; split the file or raise the server's file size limit`,
    { field: 'file', limitBytes: limit },
  );
}

async function saveFile(part: MultipartFile, dir: string, limit: number): Promise<Upload> {
  const path = join(dir, 'upload');
  await pipeline(part.file, createWriteStream(path));
  if (part.file.truncated) throw tooLarge(limit);
  return { path, name: part.filename || 'upload', contentType: part.mimetype, fields: {} };
}

/** Streams the parts to disk; fields may come before or after the file. */
async function receive(request: FastifyRequest, dir: string, limit: number): Promise<Upload> {
  let upload: Upload | undefined;
  const fields: Record<string, string> = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || upload) {
          part.file.resume();
          throw invalidArgument(part.fieldname, 'is not expected', 'send exactly one file part named "file"');
        }
        upload = await saveFile(part, dir, limit);
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(limit);
    throw err;
  }
  if (!upload) throw invalidArgument('file', 'is missing', 'send the file as a multipart part named "file"');
  return { ...upload, fields };
}

function onErrorOf(value: string | undefined): OnError {
  if (value === undefined || value === 'reject' || value === 'quarantine') return value ?? 'reject';
  throw invalidArgument('onError', `${JSON.stringify(value)} is not a choice`, 'send reject or quarantine');
}

/** Loaders by offline store and catalog; see sharedFileLoader. */
const loaders = new WeakMap<
  FileLoaderOptions['offline'],
  WeakMap<FileLoaderOptions['catalog'], FileLoader>
>();

/**
 * The one file loader of a store and catalog, shared by REST and gRPC: a loader runs the loads of
 * a source one at a time, so two uploads of one file over both surfaces cannot miss each other's ids.
 */
export function sharedFileLoader(options: FileLoaderOptions): FileLoader {
  const byCatalog = loaders.get(options.offline) ?? new WeakMap<FileLoaderOptions['catalog'], FileLoader>();
  loaders.set(options.offline, byCatalog);
  let loader = byCatalog.get(options.catalog);
  if (!loader) {
    loader = createFileLoader(options);
    byCatalog.set(options.catalog, loader);
  }
  return loader;
}

/** Runs `work` with a fresh temp directory for one upload, removed afterwards whatever happens. */
export async function withUploadDir<T>(
  tmpDir: string | undefined,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpDir ?? tmpdir(), 'meridian-upload-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why a file was rejected whole; `quarantine` is how the caller's protocol spells that choice. */
export function rejectedWholeMessage(
  fileName: string,
  source: string,
  rejected: number,
  quarantine: string,
): string {
  const bad = rejected === 1 ? '1 row is' : `${rejected} rows are`;
  return `file "${fileName}": ${bad} bad, so nothing was written; fix them, or send ${quarantine} to load the good rows and keep the bad ones in ${rejectsTable(source)}`;
}

async function handle(
  deps: FileRouteDeps,
  loader: FileLoader,
  request: FastifyRequest<{ Params: { source: string } }>,
  reply: FastifyReply,
): Promise<unknown> {
  loader.checkSource(request.params.source);
  const limit = deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return withUploadDir(deps.tmpDir, async (dir) => {
    const upload = await receive(request, dir, limit).catch((err: unknown) => {
      if (err instanceof MeridianError && err.code === 'RESOURCE_EXHAUSTED') {
        reply.status(413).send(err.toJSON());
        return null;
      }
      throw err;
    });
    if (!upload) return reply;
    const format = resolveFormat(upload.name, upload.contentType, upload.fields.format);
    const onError = onErrorOf(upload.fields.onError);
    const { rejectedWhole, ...result } = await loader.load(
      request.params.source,
      { path: upload.path, name: upload.name, format },
      onError,
    );
    if (!rejectedWhole) return result;
    return reply.status(400).send({
      ...result,
      code: 'INVALID_ARGUMENT',
      error: rejectedWholeMessage(upload.name, request.params.source, result.rejected, 'onError=quarantine'),
    });
  });
}

/** Registers the file upload route, with multipart parsing limited to its own scope. */
export function registerFileRoutes(app: FastifyInstance, deps: FileRouteDeps): void {
  const loader = sharedFileLoader(deps);
  app.register(async (scope) => {
    await scope.register(multipart, {
      limits: {
        fileSize: deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
        files: 2,
        fields: 10,
        fieldSize: 1024,
      },
    });
    scope.post<{ Params: { source: string } }>('/v1/sources/:source/files', (request, reply) =>
      handle(deps, loader, request, reply),
    );
  });
}
