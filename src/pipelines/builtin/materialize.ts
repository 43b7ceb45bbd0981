/**
 * The built-in `materialize` pipeline: the latest offline values of feature views into the online
 * store (the feature store's `POST /v1/materialize`). Params: `views` (default all), and `from` /
 * `to` (ISO 8601) to load only rows whose event time falls in [from, to). With nothing to load it
 * completes with zero rows.
 */
import { definePipeline } from '../define.js';
import type { Pipeline, StepContext } from '../types.js';
import { platformApi } from './api.js';

interface MaterializeAnswer {
  views: Record<string, { rows: number }>;
  rows: number;
}

async function materialize(ctx: StepContext): Promise<Record<string, unknown>> {
  const { views, from, to } = ctx.params as { views: string[]; from: string; to: string };
  const body = { ...(views.length > 0 ? { views } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
  const answer = await platformApi(ctx).call<MaterializeAnswer>('POST', '/v1/materialize', body);
  ctx.logger.info({ rows: answer.rows, views: Object.keys(answer.views).length }, 'materialized');
  return { rows: answer.rows, views: answer.views };
}

/** `materialize`, one step. */
export function materializePipeline(): Pipeline {
  return definePipeline({
    name: 'materialize',
    description: 'Load the latest offline values of feature views into the online store',
    params: {
      views: { type: 'array', default: [], description: 'Feature views to load (default all)' },
      from: {
        type: 'string',
        default: '',
        description: 'Only rows with event time at or after this (ISO 8601)',
      },
      to: { type: 'string', default: '', description: 'Only rows with event time before this (ISO 8601)' },
    },
    steps: [{ name: 'materialize', run: materialize, retries: 2 }],
  });
}
