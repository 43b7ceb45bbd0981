import type { Store } from '../store.js';

/**
 * A message to publish. Messages with the same key are first delivered in publish order; a message
 * that is nak'ed or times out comes back later, possibly after newer ones of its key (compare `seq`).
 */
export interface OutgoingMessage {
  /** Partition key (usually the entity key): first deliveries keep publish order per key. */
  key: string;
  data: Uint8Array;
  /** Deduplication id: publishing the same id twice within the dedup window stores it once. */
  id?: string;
  headers?: Record<string, string>;
}

export interface PublishAck {
  /** Position in the topic, increasing. */
  seq: number;
  /** true when the id had been published before and this publish was dropped. */
  duplicate: boolean;
}

export interface StreamMessage {
  topic: string;
  key: string;
  data: Uint8Array;
  id: string | null;
  headers: Record<string, string>;
  seq: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** Marks the message done for this consumer: it is never delivered to it again. */
  ack(): Promise<void>;
  /** Asks for redelivery after delayMs; past maxDeliver the message goes to the dead-letter topic. */
  nak(delayMs?: number): Promise<void>;
  /**
   * Moves the message to the dead-letter topic now, with `reason` (whitespace collapsed, at most
   * 1000 characters) in its reason header, for input no redelivery can fix; it is not delivered
   * to this consumer again. Resolves once the dead-letter message is stored.
   */
  deadLetter(reason: string): Promise<void>;
}

export interface ConsumerOptions {
  /** Durable name: a consumer with the same name resumes where the last one left off. */
  name: string;
  /** Deliveries before a message moves to `dlq.<topic>`; default 5. */
  maxDeliver?: number;
  /** An unacked message is redelivered after this long; default 30 s. */
  ackWaitMs?: number;
  /** Messages handed out and not yet acked, at most; default 256. */
  maxInFlight?: number;
}

/** A durable consumer: iterate to receive; close to stop (unacked messages are redelivered later). */
export interface Consumer extends AsyncIterable<StreamMessage> {
  close(): Promise<void>;
}

/** Topics of ordered, durable messages with acked publish and durable consumers. */
export interface EventStream extends Store {
  /** Creates the topic if it does not exist (idempotent). */
  ensureTopic(topic: string): Promise<void>;
  /** Publishes and resolves once every message is durably stored, in order. */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<PublishAck[]>;
  consume(topic: string, options: ConsumerOptions): Promise<Consumer>;
}

/**
 * The topic a consumer moves poison messages to. A prefix, not a suffix: on NATS `<topic>.dlq`
 * would overlap the bare subject `meridian.<topic>` that plain publishers use.
 */
export const deadLetterTopic = (topic: string): string => `dlq.${topic}`;
