/**
 * Baselines over REST. `PUT /v1/models/{name}/versions/{version}/baseline` (multipart: `file`, the
 * reference dataset as CSV, Parquet or JSONL; optional `format`, `features`, `prediction`, `label`,
 * `categorical` (comma lists of column names), `sampleSize`, `seed`) answers the stored profile's
 * summary; `GET` on the same path answers the whole profile. The upload is streamed to a temp file
 * under a size limit; a rejected upload stores nothing.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidArgument, isMeridianError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { commaList } from '../../monitoring/baseline/columns.js';
import { summarize } from '../../monitoring/baseline/profile.js';
import type { ReferenceFile } from '../../monitoring/baseline/reference.js';
import { createBaselineService } from '../../monitoring/baseline/service.js';
import type { ArtifactStore } from '../../stores/artifact/port.js';
import type { StateStore } from '../../stores/state/port.js';
import { DEFAULT_MAX_FILE_BYTES, tooLarge, withUploadDir } from './files.js';

export interface BaselineRouteDeps {
  state: StateStore;
  artifact: ArtifactStore;
  logger: Logger;
  /** Largest reference file accepted, in bytes (default 1 GiB, as for file ingestion). */
  maxFileBytes?: number;
  /** Where uploads are saved while they are profiled (default the OS temp directory). */
  tmpDir?: string;
}

const TEXT_FIELDS = [
  'format',
  'features',
  'prediction',
  'label',
  'categorical',
  'sampleSize',
  'seed',
] as const;

interface Upload {
  file?: ReferenceFile;
  fields: Record<string, string>;
}

type VersionParams = { Params: { name: string; version: string } };

/** Registers PUT and GET of a version's baseline, with multipart parsing limited to the PUT's scope. */
export function registerBaselineRoutes(app: FastifyInstance, deps: BaselineRouteDeps): void {
  const service = createBaselineService(deps);
  const limit = deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: limit, files: 2, fields: 20, fieldSize: 64 * 1024 },
    });
    scope.put<VersionParams>('/v1/models/:name/versions/:version/baseline', async (request, reply) => {
      try {
        const profile = await withUploadDir(deps.tmpDir, async (dir) => {
          const upload = await receive(request, dir, limit);
          if (!upload.file) {
            throw invalidArgument(
              'file',
              'is missing',
              'send the reference dataset as a multipart part named "file"',
            );
          }
          const { fields } = upload;
          const file = fields.format === undefined ? upload.file : { ...upload.file, format: fields.format };
          return service.put(request.params.name, request.params.version, file, {
            features: commaList(fields.features),
            prediction: fields.prediction,
            label: fields.label,
            categorical: commaList(fields.categorical),
            sampleSize: fields.sampleSize,
            seed: fields.seed,
          });
        });
        return reply.status(200).send(summarize(profile));
      } catch (err) {
        // Too large is the client's payload, not a rate limit: 413, as for file ingestion.
        if (isMeridianError(err, 'RESOURCE_EXHAUSTED')) return reply.status(413).send(err.toJSON());
        throw err;
      }
    });
  });
  app.get<VersionParams>('/v1/models/:name/versions/:version/baseline', async (request) =>
    service.get(request.params.name, request.params.version),
  );
}

/** Streams the file part to disk and collects the text fields, in whatever order they come. */
async function receive(request: FastifyRequest, dir: string, limit: number): Promise<Upload> {
  if (!request.isMultipart()) {
    throw invalidArgument(
      'file',
      'the request is not multipart/form-data',
      'send the dataset as a part named "file"',
    );
  }
  const upload: Upload = { fields: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || upload.file) {
          part.file.resume();
          throw invalidArgument(part.fieldname, 'is not expected', 'send exactly one file part named "file"');
        }
        const path = join(dir, 'reference');
        await pipeline(part.file, createWriteStream(path));
        if (part.file.truncated) throw tooLarge(limit);
        upload.file = { path, name: part.filename || 'reference', contentType: part.mimetype };
      } else if ((TEXT_FIELDS as readonly string[]).includes(part.fieldname)) {
        upload.fields[part.fieldname] = String(part.value);
      } else {
        throw invalidArgument(
          part.fieldname,
          'is not a field of a baseline upload',
          `send file, ${TEXT_FIELDS.join(', ')}`,
        );
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(limit);
    throw err;
  }
  return upload;
}
