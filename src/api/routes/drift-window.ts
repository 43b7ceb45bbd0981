/**
 * `POST /v1/models/{name}/versions/{version}/drift`: the drift of a time window of the version's
 * prediction log against its baseline, on demand. Body (optional): `{"from", "to"}` as ISO 8601
 * (default the last hour), `minRows`, and per-column `methods` / `thresholds` as `POST /v1/drift`
 * takes them. Answers src/monitoring/drift/window-report.ts `WindowDriftResult`: the `POST /v1/drift`
 * columns, `datasetDrift`, `driftShare`, `rows`, `window`, or `status: "insufficient_data"`.
 * The window is read from the offline store, so the route answers FAILED_PRECONDITION in a process
 * that does not own it.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { WindowDriftJob } from '../../monitoring/drift/window-job.js';
import { methodOverrides, thresholdOverrides } from './drift.js';

export interface DriftWindowRouteDeps {
  /** Absent where the offline store is not open: the route then answers FAILED_PRECONDITION. */
  job?: WindowDriftJob;
  /** Why there is no job, for the FAILED_PRECONDITION message. */
  unavailableReason?: string;
}

const isoTime = z.iso.datetime({ offset: true });

/** The body of the on-demand window drift. */
export const driftWindowRequestSchema = z
  .object({
    from: isoTime.optional().describe('Window start, ISO 8601, inclusive (default: to minus one hour)'),
    to: isoTime.optional().describe('Window end, ISO 8601, exclusive (default: now)'),
    minRows: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Fewer window rows than this is insufficient_data (default 100)'),
    methods: methodOverrides,
    thresholds: thresholdOverrides,
  })
  .strict();

type Params = { Params: { name: string; version: string } };

function parse(body: unknown) {
  const result = driftWindowRequestSchema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const field = path.map(String).join('.') || 'body';
  const hint =
    issue.code === 'unrecognized_keys'
      ? 'the fields are from, to, minRows, methods, thresholds'
      : field === 'from' || field === 'to'
        ? 'send an ISO 8601 time with its offset, e.g. 2026-01-01T00:00:00Z'
        : 'see the OpenAPI document at /openapi.json';
  throw invalidArgument(field, issue.message.replace(/^Invalid input: /, ''), hint);
}

/** Registers the on-demand window drift of a model version. */
export function registerDriftWindowRoutes(app: FastifyInstance, deps: DriftWindowRouteDeps): void {
  app.post<Params>('/v1/models/:name/versions/:version/drift', async (request) => {
    const body = parse(request.body);
    const job = deps.job;
    if (!job) {
      throw new MeridianError(
        'FAILED_PRECONDITION',
        `window drift reads the prediction log from the offline store, which this process does not open (${deps.unavailableReason ?? 'not configured'}); send the request to the process running --target all, which owns the offline store`,
        { store: 'offline' },
      );
    }
    const last = job.lastHour();
    const to = body.to ? new Date(body.to) : last.to;
    const from = body.from
      ? new Date(body.from)
      : new Date(to.getTime() - (last.to.getTime() - last.from.getTime()));
    if (from.getTime() >= to.getTime()) {
      throw invalidArgument(
        'from',
        `${from.toISOString()} is not before to (${to.toISOString()})`,
        'send from < to',
      );
    }
    return job.run(
      request.params.name,
      request.params.version,
      { from, to },
      {
        ...(body.minRows !== undefined ? { minRows: body.minRows } : {}),
        ...(body.methods ? { methods: body.methods } : {}),
        ...(body.thresholds ? { thresholds: body.thresholds } : {}),
      },
    );
  });
}
