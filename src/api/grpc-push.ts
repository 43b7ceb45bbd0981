/**
 * `PushEvents`: a client stream of event batches, each pushed through the same ingestor as
 * `POST /v1/sources/{source}/events`. Batches are pushed as they arrive (up to a bound in flight)
 * and the call answers once all of them are durable. The first bad batch ends the call with its
 * error, its field path prefixed with `requests[i].`, and says which earlier batches were stored.
 */
import { MeridianError, toMeridianError } from '../core/errors.js';
import type { Ingestor, PushResult } from '../features/ingest/push.js';
import { fieldsToJson, type WireValue } from './grpc-values.js';

export interface PushEventsRequest {
  source: string;
  events?: { fields?: Record<string, WireValue> }[];
}

/** Pushes of one call in flight at once when not configured: enough to overlap batching and writes. */
export const DEFAULT_PUSHES_IN_FLIGHT = 16;

/** Runs one PushEvents call over its request stream; resolves to the totals or rejects with the first failure. */
export async function pushEventStream(
  ingestor: Ingestor,
  requests: AsyncIterable<PushEventsRequest>,
  maxInFlight = DEFAULT_PUSHES_IN_FLIGHT,
): Promise<PushResult> {
  const outcomes: Promise<PushResult>[] = [];
  let failed = false;
  for await (const request of requests) {
    if (failed) break;
    const events = (request.events ?? []).map((event) => fieldsToJson(event.fields));
    const outcome = ingestor.push(request.source, events);
    outcome.catch(() => {
      failed = true;
    });
    outcomes.push(outcome);
    const oldest = outcomes[outcomes.length - 1 - maxInFlight];
    if (oldest) await oldest.catch(() => undefined);
  }
  const settled = await Promise.allSettled(outcomes);
  const firstFailure = settled.findIndex((s) => s.status === 'rejected');
  if (firstFailure >= 0) {
    throw failureOf(settled, firstFailure, (settled[firstFailure] as PromiseRejectedResult).reason);
  }
  return settled.reduce(
    (total, s) => {
      const result = (s as PromiseFulfilledResult<PushResult>).value;
      return { accepted: total.accepted + result.accepted, duplicates: total.duplicates + result.duplicates };
    },
    { accepted: 0, duplicates: 0 },
  );
}

/** The error of request `index`, its path under `requests[index]`, with what was already stored. */
function failureOf(
  settled: PromiseSettledResult<PushResult>[],
  index: number,
  reason: unknown,
): MeridianError {
  const error = toMeridianError(reason);
  const prefix = `requests[${index}]`;
  const field = error.details.field;
  const path = field ? `${prefix}.${field}` : prefix;
  const problem =
    field && error.message.startsWith(`${field}:`)
      ? error.message.slice(field.length + 1)
      : ` ${error.message}`;
  const stored = settled.slice(0, index) as PromiseFulfilledResult<PushResult>[];
  const accepted = stored.reduce((n, s) => n + s.value.accepted, 0);
  const later = settled.slice(index + 1).filter((s) => s.status === 'fulfilled').length;
  const earlier =
    index === 0
      ? 'no earlier request was stored'
      : `the ${index} earlier request${index === 1 ? ' was' : 's were'} already stored (${accepted} events accepted); resend from ${prefix}`;
  const after = later > 0 ? `; ${later} later request${later === 1 ? ' was' : 's were'} stored too` : '';
  return new MeridianError(
    error.code,
    `${path}:${problem} (${earlier}${after})`,
    { ...error.details, ...(field ? { field: path } : {}), storedRequests: index },
    { cause: error },
  );
}
