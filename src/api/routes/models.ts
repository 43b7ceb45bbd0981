/**
 * The model registry over REST. `POST /v1/models/{name}/versions` (multipart: `file`, `format`,
 * optional `featureService`, `inputs` comma-separated, `missing` JSON (the missing-value policy of
 * hydrated predictions, `{"default": "error"|"nan", "values": {...}}`), `metrics` JSON, `baseline`, `createdBy`)
 * answers `{name, version, stage, sha256}` with 201; the upload is streamed to a temp file under a
 * size limit before it is loaded. `POST /v1/models/{name}/versions/{version}/stage` with `{stage}`,
 * `GET /v1/models`, `GET /v1/models/{name}` and `GET /v1/models/{name}/versions/{version}`.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidArgument, isMeridianError } from '../../core/errors.js';
import {
  checkMissingPolicy,
  checkName,
  checkStage,
  checkVersion,
  type MissingPolicy,
  type PushInput,
} from '../../serving/model-version.js';
import type { ModelRegistry } from '../../serving/registry.js';
import { tooLarge, withUploadDir } from './files.js';

export interface ModelRouteDeps {
  registry: ModelRegistry;
  /** Largest model file accepted, in bytes (default 512 MiB). */
  maxModelBytes?: number;
  /** Where uploads are saved while they are checked (default the OS temp directory). */
  tmpDir?: string;
}

/** The largest model file accepted when none is configured. */
export const DEFAULT_MAX_MODEL_BYTES = 512 * 1024 ** 2;

const TEXT_FIELDS = [
  'format',
  'featureService',
  'inputs',
  'missing',
  'metrics',
  'baseline',
  'createdBy',
] as const;

interface Upload {
  path?: string;
  fields: Record<string, string>;
}

type NameParams = { Params: { name: string } };
type VersionParams = { Params: { name: string; version: string } };

/** Registers push, stage change, list and describe, with multipart parsing limited to the push route's scope. */
export function registerModelRoutes(app: FastifyInstance, deps: ModelRouteDeps): void {
  const limit = deps.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: limit, files: 2, fields: 20, fieldSize: 256 * 1024 },
    });
    scope.post<NameParams>('/v1/models/:name/versions', async (request, reply) => {
      const name = checkName(request.params.name);
      try {
        const pushed = await withUploadDir(deps.tmpDir, async (dir) => {
          const upload = await receive(request, dir, limit);
          return deps.registry.push(await pushInput(name, upload));
        });
        const { version, stage, sha256 } = pushed;
        return reply.status(201).send({ name, version, stage, sha256 });
      } catch (err) {
        // Too large is the client's payload, not a rate limit: 413, as for file ingestion.
        if (isMeridianError(err, 'RESOURCE_EXHAUSTED')) return reply.status(413).send(err.toJSON());
        throw err;
      }
    });
  });
  app.post<VersionParams & { Body: unknown }>('/v1/models/:name/versions/:version/stage', async (request) => {
    const name = checkName(request.params.name);
    const version = checkVersion(request.params.version);
    const body = request.body as { stage?: unknown } | undefined;
    const stage = checkStage(body && typeof body === 'object' ? body.stage : undefined);
    const change = await deps.registry.setStage(name, version, stage);
    return { ...change.version, ...(change.demotedVersion ? { demotedVersion: change.demotedVersion } : {}) };
  });
  app.get('/v1/models', async () => ({ models: await deps.registry.list() }));
  app.get<NameParams>('/v1/models/:name', async (request) => deps.registry.describe(request.params.name));
  app.get<VersionParams>('/v1/models/:name/versions/:version', async (request) =>
    deps.registry.version(request.params.name, checkVersion(request.params.version)),
  );
}

/** Streams the file part to disk and collects the text fields, in whatever order they come. */
async function receive(request: FastifyRequest, dir: string, limit: number): Promise<Upload> {
  if (!request.isMultipart()) {
    throw invalidArgument(
      'file',
      'the request is not multipart/form-data',
      'send the model as a part named "file"',
    );
  }
  const upload: Upload = { fields: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || upload.path) {
          part.file.resume();
          throw invalidArgument(part.fieldname, 'is not expected', 'send exactly one file part named "file"');
        }
        upload.path = join(dir, 'model');
        await pipeline(part.file, createWriteStream(upload.path));
        if (part.file.truncated) throw tooLarge(limit);
      } else if ((TEXT_FIELDS as readonly string[]).includes(part.fieldname)) {
        upload.fields[part.fieldname] = String(part.value);
      } else {
        throw invalidArgument(
          part.fieldname,
          'is not a field of a model push',
          `send ${TEXT_FIELDS.join(', ')}`,
        );
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(limit);
    throw err;
  }
  return upload;
}

async function pushInput(name: string, upload: Upload): Promise<PushInput> {
  const { fields } = upload;
  if (fields.format === undefined) {
    throw invalidArgument('format', 'is missing', 'send format=onnx, xgboost or lightgbm');
  }
  if (!upload.path)
    throw invalidArgument('file', 'is missing', 'send the model file as a multipart part named "file"');
  const input: PushInput = { name, format: fields.format, bytes: await readFile(upload.path) };
  if (fields.inputs !== undefined) input.inputs = fields.inputs.split(',').map((s) => s.trim());
  if (fields.featureService !== undefined) input.featureService = fields.featureService;
  if (fields.missing !== undefined) input.missingPolicy = parseMissing(fields.missing);
  if (fields.metrics !== undefined) input.metrics = parseMetrics(fields.metrics);
  if (fields.baseline !== undefined) input.baseline = fields.baseline;
  if (fields.createdBy !== undefined) input.createdBy = fields.createdBy;
  return input;
}

function parseMetrics(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw invalidArgument('metrics', 'is not valid JSON', 'send a JSON object, e.g. {"auc": 0.91}');
  }
}

function parseMissing(text: string): MissingPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidArgument(
      'missing',
      'is not valid JSON',
      'send e.g. {"default": "nan", "values": {"amount": 0}}',
    );
  }
  return checkMissingPolicy(parsed);
}
