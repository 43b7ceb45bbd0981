/**
 * What the stream consumer decides per message: the events a body holds, whether a failure is the
 * message's fault (poison: redelivering it can never help) or the system's (retry later), and how
 * long to wait before that retry.
 */
import { invalidArgument, isMeridianError, toMeridianError } from '../../core/errors.js';

/** The events of a message body: one JSON event object or a JSON array of them. */
export function decodeEvents(data: Uint8Array): unknown[] {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw invalidArgument(
      'message',
      `is not UTF-8 JSON (${(err as Error).message})`,
      'publish one JSON event object or a JSON array of events',
    );
  }
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null) return [body];
  throw invalidArgument(
    'message',
    `must be a JSON event object or an array of them, got ${JSON.stringify(body)}`,
  );
}

/**
 * Whether a failure lies in the message itself: events that do not fit the source (INVALID_ARGUMENT)
 * or a source that does not exist (NOT_FOUND). Anything else — a store down, a full queue, a
 * shutdown — may pass, so the message is retried.
 */
export function isPoison(err: unknown): boolean {
  return isMeridianError(err, 'INVALID_ARGUMENT') || isMeridianError(err, 'NOT_FOUND');
}

/** The dead-letter reason of a failure: its code and message. */
export function poisonReason(err: unknown): string {
  const e = toMeridianError(err);
  return `${e.code}: ${e.message}`;
}

export interface RetryPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Longest delay between retries. */
  maxMs: number;
}

/** Exponential backoff by delivery count, capped, with up to 20% jitter so retries spread out. */
export function retryDelay(deliveryCount: number, policy: RetryPolicy, random = Math.random): number {
  const exponent = Math.min(Math.max(deliveryCount - 1, 0), 30);
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(delay * (0.8 + 0.2 * random()));
}
