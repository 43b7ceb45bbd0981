/**
 * Alerts over REST: `GET /v1/alerts?state=firing|resolved|pending|all` (default all, newest first,
 * `limit` up to 1000) answers `{alerts: [...]}`; `GET /v1/alerts/{id}` answers one alert or 404.
 */
import type { FastifyInstance } from 'fastify';
import { invalidArgument } from '../../core/errors.js';
import { type AlertStore, checkAlertFilter } from '../../monitoring/alerts/alert-store.js';

export interface AlertRouteDeps {
  alerts: AlertStore;
}

const MAX_LIMIT = 1000;

function checkLimit(value: unknown): number {
  if (value === undefined) return MAX_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw invalidArgument('limit', `${JSON.stringify(value)} is not a whole number from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

/** Registers the alert list and the alert lookup. */
export function registerAlertRoutes(app: FastifyInstance, deps: AlertRouteDeps): void {
  app.get<{ Querystring: { state?: string; limit?: string } }>('/v1/alerts', async (request) => {
    const state = checkAlertFilter(request.query.state);
    const limit = checkLimit(request.query.limit);
    return { alerts: await deps.alerts.list(state, limit) };
  });
  app.get<{ Params: { id: string } }>('/v1/alerts/:id', async (request) =>
    deps.alerts.get(request.params.id),
  );
}
