/**
 * Push ingestion over REST: `POST /v1/sources/:source/events` with `{"events": [...]}` answers
 * `{"accepted": N, "duplicates": M}` once the events are durable in the offline store and applied
 * online. Deps: the ingestor only; it owns the stores and the catalog.
 */
import type { FastifyInstance } from 'fastify';
import { invalidArgument } from '../../core/errors.js';
import type { Ingestor } from '../../features/ingest/push.js';

export interface IngestRouteDeps {
  ingestor: Ingestor;
  /** Largest request body accepted, in bytes (default 32 MiB: a 5000-event batch of wide events). */
  bodyLimitBytes?: number;
}

/** Registers the push-events route. */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestRouteDeps): void {
  app.post<{ Params: { source: string } }>(
    '/v1/sources/:source/events',
    { bodyLimit: deps.bodyLimitBytes ?? 32 * 1024 * 1024 },
    async (request) => {
      const body = request.body as { events?: unknown } | null;
      if (typeof body !== 'object' || body === null || Array.isArray(body) || !('events' in body)) {
        throw invalidArgument('events', 'is missing', 'send {"events": [{...}, ...]}');
      }
      return deps.ingestor.push(request.params.source, body.events);
    },
  );
}
