/**
 * Where a source's events travel on the event stream, and a producer helper. A source's topic is
 * `events.<source>`: on NATS that is the JetStream stream `MERIDIAN_events~<source>` over the
 * subjects `meridian.events.<source>.<partition>` (see stores/stream/nats.ts). A message body is one
 * JSON event object or a JSON array of them, the shapes `POST /v1/sources/{source}/events` takes;
 * its key is the entity key, so the events of one entity are delivered in the order published.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../core/errors.js';
import type { EventStream, OutgoingMessage, PublishAck } from '../../stores/stream/port.js';
import { MAX_DATA_BYTES, validateTopic } from '../../stores/stream/rules.js';
import { entityKey } from '../layout.js';

/** The stream topic carrying a source's events. */
export const eventsTopic = (source: string): string => `events.${source}`;

const MAX_CONSUMER_NAME = 64;

/** The durable consumer name the feature store reads a source's topic with (at most 64 characters). */
export function eventsConsumerName(source: string): string {
  const name = `meridian-features-${source}`;
  if (name.length <= MAX_CONSUMER_NAME) return name;
  // Two long names sharing a prefix must not share a durable position.
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_CONSUMER_NAME - hash.length - 1)}-${hash}`;
}

export interface PublishEventsOptions {
  /** The partition key of every message; give this or `joinKeys`. */
  key?: string;
  /** Fields whose values make each event's entity key: events are grouped by it, order kept. */
  joinKeys?: readonly string[];
  /** Deduplication id of the publish: a retry with the same id within two minutes is stored once. */
  id?: string;
}

type Event = Record<string, unknown>;

function keyOf(event: unknown, joinKeys: readonly string[], i: number): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalidArgument(`events[${i}]`, 'must be an event object');
  }
  const values = joinKeys.map((field) => {
    const value = (event as Event)[field];
    if (value === undefined || value === null || value === '') {
      throw invalidArgument(
        `events[${i}].${field}`,
        'is missing',
        'the partition key is made of the join keys',
      );
    }
    return value;
  });
  return entityKey(values);
}

/** Splits a key's events into bodies under the stream's message size limit, order kept. */
function bodies(events: readonly unknown[]): Uint8Array[] {
  const encoder = new TextEncoder();
  const out: Uint8Array[] = [];
  let chunk: string[] = [];
  let size = 2;
  const flush = (): void => {
    if (chunk.length > 0) out.push(encoder.encode(`[${chunk.join(',')}]`));
    chunk = [];
    size = 2;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json) + 1;
    if (size + bytes > MAX_DATA_BYTES) flush();
    chunk.push(json);
    size += bytes;
  }
  flush();
  return out;
}

function groupByKey(events: readonly unknown[], options: PublishEventsOptions): Map<string, unknown[]> {
  const groups = new Map<string, unknown[]>();
  events.forEach((event, i) => {
    const key = options.key ?? keyOf(event, options.joinKeys ?? [], i);
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  });
  return groups;
}

/**
 * Publishes events to a source's topic, one message per entity key (split when over the size
 * limit), and resolves once the stream stored them. The topic is created when missing.
 */
export async function publishEvents(
  stream: EventStream,
  source: string,
  events: unknown,
  options: PublishEventsOptions,
): Promise<PublishAck[]> {
  const topic = validateTopic(eventsTopic(source), 'source');
  const list = Array.isArray(events) ? events : [events];
  if (options.key === undefined && (options.joinKeys?.length ?? 0) === 0) {
    throw invalidArgument('options', 'gives neither key nor joinKeys', 'pass { key } or { joinKeys: [...] }');
  }
  const messages: OutgoingMessage[] = [];
  for (const [key, group] of groupByKey(list, options)) {
    for (const data of bodies(group)) messages.push({ key, data });
  }
  if (options.id !== undefined) {
    messages.forEach((m, i) => {
      m.id = messages.length === 1 ? options.id : `${options.id}:${i}`;
    });
  }
  await stream.ensureTopic(topic);
  return stream.publish(topic, messages);
}
