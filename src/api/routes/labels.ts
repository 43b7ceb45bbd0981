/**
 * Ground truth and performance over REST. `POST /v1/labels` takes labels keyed by prediction id and
 * row, or by model, entity key and time, and answers how many were accepted, duplicates, unknown
 * or outside the lookback (none of which fails the request). `GET
 * /v1/models/{name}/versions/{version}/performance?from=&to=` answers the window's labelled share and
 * metrics next to the version's training metrics, with label drift against its baseline. Both need
 * the offline store (target `all`).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { checkModel, checkModelVersion } from '../../monitoring/baseline/store.js';
import { parseLabelsRequest } from '../../monitoring/labels/schema.js';
import { createLabelStore, type LabelStore } from '../../monitoring/labels/store.js';
import { DEFAULT_PERFORMANCE_WINDOW_MS, windowPerformance } from '../../monitoring/performance/service.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { StateStore } from '../../stores/state/port.js';

export interface LabelRouteDeps {
  offline: OfflineStore;
  state: StateStore;
  logger: Logger;
  /** Oldest prediction that still accepts a label, in ms before it arrives (default 14 days). */
  lookbackMs?: number;
  clock?: Clock;
  /** The label store to write through, when the stream consumer shares it (default a new one). */
  labels?: LabelStore;
}

/** Labels per request are capped by the schema; 16 MiB holds 10,000 of them with room to spare. */
const LABELS_BODY_BYTES = 16 * 1024 ** 2;

type PerformanceRequest = {
  Params: { name: string; version: string };
  Querystring: { from?: string; to?: string };
};

function instant(field: string, value: string | undefined, fallback: number): Date {
  if (value === undefined || value === '') return new Date(fallback);
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(value)} is not a time`,
      'send ISO 8601, e.g. 2026-01-31T00:00:00Z',
    );
  }
  return new Date(ms);
}

/** Registers `POST /v1/labels` and `GET /v1/models/:name/versions/:version/performance`. */
export function registerLabelRoutes(app: FastifyInstance, deps: LabelRouteDeps): void {
  const clock = deps.clock ?? systemClock;
  const labels =
    deps.labels ??
    createLabelStore({
      offline: deps.offline,
      logger: deps.logger,
      clock,
      ...(deps.lookbackMs === undefined ? {} : { lookbackMs: deps.lookbackMs }),
    });
  app.post('/v1/labels', { bodyLimit: LABELS_BODY_BYTES }, async (request) =>
    labels.ingest(parseLabelsRequest(request.body).labels),
  );
  app.get<PerformanceRequest>('/v1/models/:name/versions/:version/performance', async (request) => {
    const model = checkModel(request.params.name);
    const version = checkModelVersion(request.params.version);
    const to = instant('to', request.query.to, clock.now());
    const from = instant('from', request.query.from, to.getTime() - DEFAULT_PERFORMANCE_WINDOW_MS);
    return windowPerformance({ offline: deps.offline, state: deps.state }, model, version, from, to);
  });
}
