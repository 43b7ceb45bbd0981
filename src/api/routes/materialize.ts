/**
 * `POST /v1/materialize` with `{"views"?: [...], "from"?, "to"?}`: loads the newest offline values of
 * the views (default every online view) into the online store, optionally only rows with an event
 * time in [from, to). Answers `{"views": {"<name>": {"rows", "stale"}}, "rows"}`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type MaterializeStores, materialize } from '../../features/materialize.js';
import { parseBody } from './zod-body.js';

const time = z.union([
  z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)),
  z.number().int().min(0),
]);

/** The body of `POST /v1/materialize`. */
export const materializeRequestSchema = z
  .object({
    views: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Feature views to load (default: every online view)'),
    from: time.optional().describe('Only rows with an event time at or after this (ISO 8601 or epoch ms)'),
    to: time.optional().describe('Only rows with an event time before this (ISO 8601 or epoch ms)'),
  })
  .strict();

function hintFor(field: string, unknownKey: boolean): string {
  if (unknownKey) return 'the fields are views, from, to';
  if (field === 'from' || field === 'to')
    return 'send an ISO 8601 time with its offset (e.g. 2026-01-01T00:00:00Z) or epoch milliseconds';
  return 'send a list of feature view names, or leave views out for every online view';
}

/** Registers the materialization route of the feature store. */
export function registerMaterializeRoutes(app: FastifyInstance, deps: MaterializeStores): void {
  app.post('/v1/materialize', async (request) => {
    const body = parseBody(materializeRequestSchema, request.body, hintFor);
    return materialize(deps, {
      ...(body.views ? { views: body.views } : {}),
      ...(body.from !== undefined ? { from: body.from } : {}),
      ...(body.to !== undefined ? { to: body.to } : {}),
    });
  });
}
