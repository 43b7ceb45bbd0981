/**
 * Pipelines over REST (issue 7's contract): `GET /v1/pipelines`; `POST /v1/pipelines/{name}/runs`
 * with `{params?, logicalDate?, force?}` answering `{runId, status, created}` (created false when the
 * idempotency key already had a run); `GET /v1/runs` (`pipeline`, `status`, `limit`);
 * `GET /v1/runs/{runId}`; `POST /v1/runs/{runId}/resume`; `GET /v1/runs/{runId}/logs`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidArgument } from '../../core/errors.js';
import { describePipeline } from '../../pipelines/describe.js';
import type { Orchestrator, RunStatus } from '../../pipelines/types.js';
import { parseBody } from './zod-body.js';

export interface PipelineRouteDeps {
  orchestrator: Orchestrator;
}

/** The body of a trigger. */
export const triggerRequestSchema = z
  .object({
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("The pipeline's parameters by name; defaults fill the rest"),
    logicalDate: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('The date the run is for, ISO 8601 with offset (default: now); part of the idempotency key'),
    force: z
      .boolean()
      .optional()
      .describe('Start a new run even when the key already has one running or completed (default false)'),
  })
  .strict();

const RUN_STATUSES: readonly RunStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'];
const MAX_LIMIT = 1000;

function hint(field: string, unknownKey: boolean): string {
  if (unknownKey) return 'the fields are params, logicalDate and force';
  if (field === 'logicalDate') return 'send an ISO 8601 time with its offset, e.g. 2026-01-01T00:00:00Z';
  if (field === 'force') return 'send true or false';
  return 'send params as an object of parameter values';
}

function integerQuery(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidArgument(name, `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function statusQuery(value: string | undefined): RunStatus | undefined {
  if (value === undefined) return undefined;
  const status = value.toUpperCase() as RunStatus;
  if (!RUN_STATUSES.includes(status)) {
    throw invalidArgument(
      'status',
      `${JSON.stringify(value)} is not a run status`,
      `use one of ${RUN_STATUSES.join(', ')}`,
    );
  }
  return status;
}

type RunParams = { Params: { runId: string } };

/** Registers the pipeline catalog, triggers, and the run views. */
export function registerPipelineRoutes(app: FastifyInstance, deps: PipelineRouteDeps): void {
  const { orchestrator } = deps;
  app.get('/v1/pipelines', async () => ({ pipelines: orchestrator.pipelines().map(describePipeline) }));
  app.post<{ Params: { name: string } }>('/v1/pipelines/:name/runs', async (request) => {
    const body = parseBody(triggerRequestSchema, request.body, hint);
    return orchestrator.trigger(request.params.name, {
      ...(body.params ? { params: body.params } : {}),
      ...(body.logicalDate ? { logicalDate: new Date(body.logicalDate) } : {}),
      ...(body.force !== undefined ? { force: body.force } : {}),
      trigger: { kind: 'api' },
    });
  });
  app.get<{ Querystring: { pipeline?: string; status?: string; limit?: string } }>(
    '/v1/runs',
    async (request) => {
      const { pipeline } = request.query;
      const status = statusQuery(request.query.status);
      const limit = integerQuery('limit', request.query.limit, 1, MAX_LIMIT);
      const runs = await orchestrator.runs({
        ...(pipeline ? { pipeline } : {}),
        ...(status ? { status } : {}),
        ...(limit ? { limit } : {}),
      });
      return { runs };
    },
  );
  app.get<RunParams>('/v1/runs/:runId', async (request) => orchestrator.run(request.params.runId));
  app.post<RunParams>('/v1/runs/:runId/resume', async (request) => orchestrator.resume(request.params.runId));
  app.get<RunParams & { Querystring: { step?: string; after?: string; limit?: string } }>(
    '/v1/runs/:runId/logs',
    async (request) => {
      const { step } = request.query;
      const afterSeq = integerQuery('after', request.query.after, 0, Number.MAX_SAFE_INTEGER);
      const limit = integerQuery('limit', request.query.limit, 1, 10_000);
      const lines = await orchestrator.logs(request.params.runId, {
        ...(step ? { step } : {}),
        ...(afterSeq !== undefined ? { afterSeq } : {}),
        ...(limit ? { limit } : {}),
      });
      return { lines };
    },
  );
}
