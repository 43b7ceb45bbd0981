/**
 * Rules both event streams share, so the embedded and the NATS stream accept the same input and
 * dead-letter the same way: argument validation, the partition hash and the dead-letter message.
 *
 * Ordering, in both: a consumer's first deliveries follow publish order, so the messages of a key
 * arrive in the order they were published. A message that is nak'ed or not acked in time comes
 * back later and may then follow newer messages of its key; compare `seq` where that matters.
 */
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { ConsumerOptions, OutgoingMessage } from './port.js';

/** How long a message id is remembered for deduplication. */
export const DEDUP_WINDOW_MS = 2 * 60_000;
/** Subjects per topic on NATS; the embedded stream does not need partitions. */
export const PARTITIONS = 16;
/** Largest payload accepted: NATS's default `max_payload` (1 MiB) less room for headers. */
export const MAX_DATA_BYTES = 1_000_000;
/** Room kept for headers when checking a payload against a NATS server's `max_payload`. */
export const HEADER_ALLOWANCE_BYTES = 8 * 1024;

/** Header carrying the message key (URI-encoded, so any string survives). */
export const KEY_HEADER = 'Meridian-Key';
/** Headers a dead-lettered message carries besides its own. */
export const DLQ_HEADERS = {
  topic: 'Meridian-Dlq-Topic',
  seq: 'Meridian-Dlq-Seq',
  deliveries: 'Meridian-Dlq-Deliveries',
  reason: 'Meridian-Dlq-Reason',
  consumer: 'Meridian-Dlq-Consumer',
} as const;

const TOPIC_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const NAME_RE = /^[A-Za-z0-9_-]+$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADER_RE = /^(nats|meridian)-/i;
const MAX_TOPIC_LENGTH = 200;
const MAX_NAME_LENGTH = 64;
const MAX_KEY_LENGTH = 1024;
const MAX_ID_LENGTH = 256;

export const TOPIC_RULE =
  'letters, digits, "_" and "-" in dot-separated segments (e.g. "raw-events" or "predictions.v2"), at most 200 characters';

/** Throws INVALID_ARGUMENT unless the topic is a dot-separated list of [A-Za-z0-9_-] segments. */
export function validateTopic(topic: unknown, field = 'topic'): string {
  if (typeof topic !== 'string' || !TOPIC_RE.test(topic) || topic.length > MAX_TOPIC_LENGTH) {
    throw invalidArgument(field, `${JSON.stringify(topic)} is not a valid topic name`, `use ${TOPIC_RULE}`);
  }
  return topic;
}

/** ConsumerOptions with every default filled in. */
export type ResolvedConsumerOptions = Required<ConsumerOptions>;

const CONSUMER_DEFAULTS = { maxDeliver: 5, ackWaitMs: 30_000, maxInFlight: 256 };

function intInRange(value: unknown, fallback: number, field: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(field, `${String(value)} is not an integer from ${min} to ${max}`);
  }
  return value;
}

/** Validates consumer options and fills in the defaults (maxDeliver 5, ackWait 30 s, maxInFlight 256). */
export function resolveConsumerOptions(options: unknown): ResolvedConsumerOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(
      'options',
      'must be an object with at least a consumer name',
      'pass { name: "..." }',
    );
  }
  const o = options as ConsumerOptions;
  if (typeof o.name !== 'string' || !NAME_RE.test(o.name) || o.name.length > MAX_NAME_LENGTH) {
    throw invalidArgument(
      'options.name',
      `${JSON.stringify(o.name)} is not a valid consumer name`,
      'use 1 to 64 letters, digits, "_" or "-"',
    );
  }
  return {
    name: o.name,
    maxDeliver: intInRange(o.maxDeliver, CONSUMER_DEFAULTS.maxDeliver, 'options.maxDeliver', 1, 1000),
    ackWaitMs: intInRange(o.ackWaitMs, CONSUMER_DEFAULTS.ackWaitMs, 'options.ackWaitMs', 100, 86_400_000),
    maxInFlight: intInRange(o.maxInFlight, CONSUMER_DEFAULTS.maxInFlight, 'options.maxInFlight', 1, 100_000),
  };
}

/** Validates a nak delay in milliseconds (0 to one day). */
export function validateDelay(delayMs: unknown): number {
  return intInRange(delayMs, 0, 'delayMs', 0, 86_400_000);
}

function validateHeaders(headers: unknown, field: string): void {
  if (headers === undefined) return;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw invalidArgument(field, 'must be an object of string values');
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME_RE.test(name) || RESERVED_HEADER_RE.test(name)) {
      throw invalidArgument(
        `${field}.${name}`,
        'is not an allowed header name',
        'use HTTP token characters and no "Nats-" or "Meridian-" prefix',
      );
    }
    if (typeof value !== 'string' || /[\r\n]/.test(value) || value !== value.trim()) {
      throw invalidArgument(`${field}.${name}`, 'must be a string without CR/LF or surrounding whitespace');
    }
  }
}

function validateMessage(message: unknown, field: string): void {
  if (typeof message !== 'object' || message === null)
    throw invalidArgument(field, 'must be a message object');
  const m = message as OutgoingMessage;
  if (typeof m.key !== 'string' || m.key.length === 0 || m.key.length > MAX_KEY_LENGTH) {
    throw invalidArgument(
      `${field}.key`,
      `must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`,
    );
  }
  if (!(m.data instanceof Uint8Array)) {
    throw invalidArgument(
      `${field}.data`,
      'must be a Uint8Array',
      'encode text with new TextEncoder().encode(...)',
    );
  }
  if (m.data.byteLength > MAX_DATA_BYTES) {
    throw invalidArgument(
      `${field}.data`,
      `is ${m.data.byteLength} bytes; at most ${MAX_DATA_BYTES} are accepted`,
    );
  }
  if (
    m.id !== undefined &&
    (typeof m.id !== 'string' || !/^[^\r\n]+$/.test(m.id) || m.id.length > MAX_ID_LENGTH)
  ) {
    throw invalidArgument(`${field}.id`, `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  validateHeaders(m.headers, `${field}.headers`);
}

/** Validates a publish call's arguments; throws INVALID_ARGUMENT naming the first bad one. */
export function validatePublish(topic: unknown, messages: unknown): readonly OutgoingMessage[] {
  validateTopic(topic);
  if (!Array.isArray(messages)) throw invalidArgument('messages', 'must be an array of messages');
  messages.forEach((m, i) => {
    validateMessage(m, `messages[${i}]`);
  });
  return messages;
}

/** The partition of a key: FNV-1a over its UTF-8 bytes, modulo `partitions`. */
export function partitionOf(key: string, partitions = PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * Whether a message goes to the dead-letter topic instead of being delivered again: it has been
 * delivered `deliveries` times and was nak'ed or not acked in time after the last of them.
 */
export const exhausted = (deliveries: number, maxDeliver: number): boolean => deliveries >= maxDeliver;

/** Why a message was dead-lettered, for the reason header. */
export function deadLetterReason(how: 'nak' | 'timeout', deliveries: number, ackWaitMs: number): string {
  return how === 'nak'
    ? `nak'ed on delivery ${deliveries}`
    : `not acked within ${ackWaitMs} ms of delivery ${deliveries}`;
}

const MAX_REASON_LENGTH = 1000;

/** Validates a caller's dead-letter reason; returns it on one line, at most 1000 characters. */
export function validateReason(reason: unknown): string {
  const line = typeof reason === 'string' ? reason.replace(/\s+/g, ' ').trim() : '';
  if (line === '')
    throw invalidArgument('reason', 'must be a non-empty string saying why the message is poison');
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 3)}...` : line;
}

/** What a poison message looks like on the dead-letter topic. */
export interface DeadLetterSource {
  topic: string;
  consumer: string;
  key: string;
  data: Uint8Array;
  headers: Record<string, string>;
  seq: number;
  deliveries: number;
  reason: string;
}

/** The dead-letter message: same key, data and headers, plus where it came from and why. */
export function deadLetterMessage(source: DeadLetterSource): OutgoingMessage {
  return {
    key: source.key,
    data: source.data,
    // One consumer dead-letters a given message once, even when the move is retried.
    id: `dlq:${source.topic}:${source.consumer}:${source.seq}`,
    headers: {
      ...source.headers,
      [DLQ_HEADERS.topic]: source.topic,
      [DLQ_HEADERS.seq]: String(source.seq),
      [DLQ_HEADERS.deliveries]: String(source.deliveries),
      [DLQ_HEADERS.reason]: source.reason,
      [DLQ_HEADERS.consumer]: source.consumer,
    },
  };
}

/** Error for a call on a topic that ensureTopic never created; same text for both streams. */
export function topicNotFound(topic: string): MeridianError {
  return new MeridianError('NOT_FOUND', `topic ${JSON.stringify(topic)} does not exist`, {
    field: 'topic',
    hint: 'create it with ensureTopic(topic) first',
  });
}
