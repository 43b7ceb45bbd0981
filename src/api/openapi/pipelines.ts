/**
 * The orchestrator's REST routes (src/api/routes/pipelines.ts): the catalog, triggers answering
 * `{runId, status, created}`, and the run, step and log views of src/pipelines/types.ts.
 */
import { triggerRequestSchema } from '../routes/pipelines.js';
import {
  type ApiArea,
  errors,
  json,
  jsonBody,
  object,
  type Parameter,
  type Paths,
  ref,
  type Schema,
} from './common.js';
import { fromZod } from './feature-schemas.js';

const TAG = 'pipelines';
const STATUS = { type: 'string', enum: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] };
const TIME = { type: ['string', 'null'], format: 'date-time' };

const query = (name: string, description: string, schema: Schema = { type: 'string' }): Parameter => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const path = (name: string, description: string): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', minLength: 1 },
});
const RUN_ID = path('runId', 'The run id');

const SCHEMAS: Record<string, Schema> = {
  TriggerRequest: fromZod(triggerRequestSchema, 'input'),
  TriggerResult: object({
    runId: { type: 'string' },
    status: STATUS,
    created: {
      type: 'boolean',
      description: 'false when the idempotency key already had a run (it is answered)',
    },
  }),
  StepView: object({
    name: { type: 'string' },
    status: { type: 'string', enum: [...(STATUS.enum as string[]), 'UPSTREAM_FAILED'] },
    attempts: { type: 'integer' },
    error: { type: ['string', 'null'], description: "The last attempt's error: attempt N of M: message" },
    queue: { type: 'string' },
    startedAt: TIME,
    finishedAt: TIME,
    durationMs: { type: ['integer', 'null'] },
    output: { type: ['object', 'null'], description: 'The checkpoint a completed step answered' },
  }),
  Run: object({
    runId: { type: 'string' },
    pipeline: { type: 'string' },
    status: STATUS,
    params: { type: 'object' },
    logicalDate: { type: 'string', format: 'date-time' },
    key: { type: 'string', description: 'Hash of the pipeline, its parameters and the logical date' },
    trigger: object({ kind: { type: 'string' }, detail: { type: 'string' } }, ['detail']),
    error: { type: ['string', 'null'], description: 'Which step failed, on which attempt, and why' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: TIME,
    finishedAt: TIME,
    steps: { type: 'array', items: ref('StepView') },
  }),
  PipelineDescription: object({
    name: { type: 'string' },
    description: { type: ['string', 'null'] },
    params: { type: 'object', description: 'Per parameter: {type, default?, description?}' },
    schedule: { type: ['object', 'null'], description: '{cron, timezone?, catchup?, maxCatchup?}' },
    steps: {
      type: 'array',
      items: object(
        {
          name: { type: 'string' },
          kind: { type: 'string', enum: ['function', 'command'] },
          needs: { type: 'array', items: { type: 'string' } },
          queue: { type: 'string' },
          retries: { type: 'integer' },
          retryDelayMs: { type: 'integer' },
          timeoutMs: { type: 'integer' },
          outputs: { type: 'array', items: { type: 'string' } },
          command: { type: 'string' },
        },
        ['command'],
      ),
    },
  }),
  LogLine: object({
    seq: { type: 'integer' },
    time: { type: 'string', format: 'date-time' },
    step: { type: 'string' },
    attempt: { type: 'integer' },
    stream: { type: 'string', enum: ['stdout', 'stderr', 'log'] },
    line: { type: 'string' },
  }),
};

const paths: Paths = {
  '/v1/pipelines': {
    get: {
      operationId: 'listPipelines',
      summary: 'The pipelines this platform knows',
      tags: [TAG],
      responses: {
        '200': json(
          'The catalog',
          object({ pipelines: { type: 'array', items: ref('PipelineDescription') } }),
        ),
      },
    },
  },
  '/v1/pipelines/{name}/runs': {
    post: {
      operationId: 'triggerRun',
      summary: 'Start a run, or answer the run its idempotency key already has',
      description:
        "A run's key is the pipeline, its parameters (defaults applied) and its logical date. While the key " +
        'has a pending, running or completed run, a trigger answers it with created false, unless force; ' +
        'after a failed run a trigger starts a new one.',
      tags: [TAG],
      parameters: [path('name', 'The pipeline')],
      requestBody: jsonBody(ref('TriggerRequest')),
      responses: { '200': json('The run', ref('TriggerResult')), ...errors(400, 404) },
    },
  },
  '/v1/runs': {
    get: {
      operationId: 'listRuns',
      summary: 'Runs, newest first',
      tags: [TAG],
      parameters: [
        query('pipeline', 'Only runs of this pipeline'),
        query('status', 'Only runs in this status', STATUS),
        query('limit', 'At most this many (1..1000, default 50)', { type: 'string', pattern: '^[0-9]+$' }),
      ],
      responses: {
        '200': json('The runs', object({ runs: { type: 'array', items: ref('Run') } })),
        ...errors(400),
      },
    },
  },
  '/v1/runs/{runId}': {
    get: {
      operationId: 'getRun',
      summary: 'One run with its steps',
      tags: [TAG],
      parameters: [RUN_ID],
      responses: { '200': json('The run', ref('Run')), ...errors(404) },
    },
  },
  '/v1/runs/{runId}/resume': {
    post: {
      operationId: 'resumeRun',
      summary: "Rerun a failed run's failed and later steps; completed steps keep their checkpoints",
      tags: [TAG],
      parameters: [RUN_ID],
      responses: { '200': json('The resumed run', ref('Run')), ...errors(404, 409) },
    },
  },
  '/v1/runs/{runId}/logs': {
    get: {
      operationId: 'getRunLogs',
      summary: "The run's log: step output and step loggers, in order",
      tags: [TAG],
      parameters: [
        RUN_ID,
        query('step', 'Only this step'),
        query('after', 'Only lines after this seq (for following a log)', {
          type: 'string',
          pattern: '^[0-9]+$',
        }),
        query('limit', 'At most this many lines (1..10000)', { type: 'string', pattern: '^[0-9]+$' }),
      ],
      responses: {
        '200': json('The lines', object({ lines: { type: 'array', items: ref('LogLine') } })),
        ...errors(400, 404),
      },
    },
  },
};

/** The orchestrator's paths and schemas. */
export const PIPELINES: ApiArea = { paths, schemas: SCHEMAS };
