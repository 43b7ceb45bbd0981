/**
 * `POST /v1/drift`: the ad-hoc drift report of two datasets sent as columns,
 * `{"reference": {"col": [values...]}, "current": {...}, "columnTypes"?, "methods"?, "thresholds"?}`,
 * answered exactly as src/monitoring/drift/types.ts `DriftReport` (the issue's REST contract).
 * The body is checked with zod; every error names the bad field by its JSON path and the fix.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import { type DriftOptions, driftReport, fieldPath } from '../../monitoring/drift/report.js';
import { DRIFT_METHODS } from '../../monitoring/drift/types.js';

export interface DriftRouteOptions {
  /** Largest request body in bytes (default {@link DEFAULT_DRIFT_BODY_BYTES}). */
  maxBodyBytes?: number;
}

/** Ad-hoc datasets are larger than ordinary requests: 64 MiB unless configured. */
export const DEFAULT_DRIFT_BODY_BYTES = 64 * 1024 ** 2;

const COLUMN_TYPES = ['numerical', 'categorical'] as const;
const columnValues = z.array(z.union([z.number(), z.string(), z.boolean(), z.null()]));
const columns = z.record(z.string(), columnValues);

/** The body of `POST /v1/drift`. */
/** Per-column method overrides, shared by the ad-hoc and the window drift requests. */
export const methodOverrides = z
  .record(z.string(), z.enum(DRIFT_METHODS))
  .optional()
  .describe('A method per column instead of the default by type and reference size');

/** Per-column threshold overrides, shared by the ad-hoc and the window drift requests. */
export const thresholdOverrides = z
  .record(z.string(), z.number().positive())
  .optional()
  .describe('A threshold per column: the p-value for tests, the distance for distances');

export const driftRequestSchema = z
  .object({
    reference: columns.describe('The reference dataset: column name to values (null for missing)'),
    current: columns.describe('The dataset compared with the reference; every column must be in reference'),
    columnTypes: z
      .record(z.string(), z.enum(COLUMN_TYPES))
      .optional()
      .describe('Column types; a column left out is numerical when all its values are numbers'),
    methods: methodOverrides,
    thresholds: thresholdOverrides,
  })
  .strict();

export type DriftRequest = z.infer<typeof driftRequestSchema>;

const FIELDS = Object.keys(driftRequestSchema.shape).join(', ');

function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out = out ? fieldPath(out, String(part)) : String(part);
  }
  return out || 'body';
}

function hintFor(issue: z.core.$ZodIssue): string {
  const [root] = issue.path;
  const depth = issue.path.length;
  if (issue.code === 'unrecognized_keys') return `remove it; the fields are ${FIELDS}`;
  if (issue.code === 'invalid_value') return `use one of ${issue.values.map(String).join(', ')}`;
  if ((root === 'reference' || root === 'current') && depth === 1)
    return 'send an object of columns: {"col": [values...]}';
  if ((root === 'reference' || root === 'current') && depth === 2)
    return 'send the column as an array: [1, 2, null, ...]';
  if (root === 'reference' || root === 'current') return 'values are numbers, strings, booleans or null';
  if (root === 'thresholds')
    return 'send a positive number: a p-value like 0.05 for tests, a distance like 0.1';
  if (depth === 0) return 'send a JSON object with reference and current';
  return `see the fields ${FIELDS}`;
}

/** Parses the body; the error names the first bad field by its JSON path and says what to send. */
export function parseDriftRequest(body: unknown): DriftRequest {
  const result = driftRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const problem =
    issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message.replace(/^Invalid input: /, '');
  throw invalidArgument(jsonPath(path), problem, hintFor(issue));
}

/** The report options a parsed body asks for. */
export function driftOptions(request: DriftRequest): DriftOptions {
  return {
    ...(request.columnTypes ? { columnTypes: request.columnTypes } : {}),
    ...(request.methods ? { methods: request.methods } : {}),
    ...(request.thresholds ? { thresholds: request.thresholds } : {}),
  };
}

function tooLarge(limit: number): MeridianError {
  return new MeridianError(
    'RESOURCE_EXHAUSTED',
    `body: the datasets are larger than the limit of ${limit} bytes; send a sample of the rows, or raise the limit`,
    { field: 'body', limitBytes: limit },
  );
}

/** Registers `POST /v1/drift`. */
export function registerDriftRoutes(app: FastifyInstance, options: DriftRouteOptions = {}): void {
  const limit = options.maxBodyBytes ?? DEFAULT_DRIFT_BODY_BYTES;
  app.post(
    '/v1/drift',
    {
      bodyLimit: limit,
      // Too large is the client's payload, not a rate limit: 413 rather than the 429 of RESOURCE_EXHAUSTED.
      errorHandler: (err: { statusCode?: number }, request, reply) => {
        if (err.statusCode === 413) return reply.status(413).send(tooLarge(limit).toJSON());
        return app.errorHandler(err, request, reply);
      },
    },
    async (request) => {
      const body = parseDriftRequest(request.body);
      return driftReport(body.reference, body.current, driftOptions(body));
    },
  );
}
