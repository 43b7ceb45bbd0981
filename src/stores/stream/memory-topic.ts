/**
 * One topic of the embedded stream: an append-only log with id deduplication, the durable
 * consumers' positions, and a change signal consumers wait on. The log keeps at most `maxBytes` of
 * messages; to make room it drops only messages every durable consumer has acked (any message when
 * the topic has no durable consumer), and refuses a publish that still does not fit.
 */

import { MeridianError } from '../../core/errors.js';
import type { OutgoingMessage, PublishAck } from './port.js';
import type { ResolvedConsumerOptions } from './rules.js';
import { DEDUP_WINDOW_MS } from './rules.js';
import { Signal } from './signal.js';

export interface StoredMessage {
  seq: number;
  key: string;
  data: Uint8Array;
  id: string | null;
  headers: Record<string, string>;
  bytes: number;
}

/** A delivered, not yet acked message of a durable consumer. */
export interface PendingDelivery {
  deliveries: number;
  /** When it becomes due for redelivery (ack wait or nak delay). */
  dueAt: number;
}

/** The state a durable name keeps between consumers: its position and unacked deliveries. */
export class DurableState {
  readonly pending = new Map<number, PendingDelivery>();
  constructor(
    public options: ResolvedConsumerOptions,
    /** The next first delivery; a new durable name starts at the oldest message kept. */
    public nextSeq: number,
  ) {}
}

const sizeOf = (message: OutgoingMessage): number => message.data.byteLength + message.key.length;

export class MemoryTopic {
  readonly durables = new Map<string, DurableState>();
  private log: StoredMessage[] = [];
  private head = 0;
  private bytes = 0;
  private last = 0;
  private readonly seen = new Map<string, { seq: number; at: number }>();
  private readonly signal = new Signal();

  constructor(
    readonly name: string,
    private readonly maxBytes: number,
  ) {}

  get firstSeq(): number {
    return this.log[this.head]?.seq ?? this.last + 1;
  }

  get lastSeq(): number {
    return this.last;
  }

  /**
   * Appends the messages in order, skipping ids seen within the dedup window. With durable
   * consumers, appends none and throws RESOURCE_EXHAUSTED when they do not fit even after dropping
   * every message all of them have acked.
   */
  appendAll(messages: readonly OutgoingMessage[], now: number): PublishAck[] {
    this.forgetOldIds(now);
    const keepFrom = this.lowestUnacked();
    const incoming = this.newBytes(messages);
    this.dropOldest(keepFrom, incoming);
    if (this.bytes + incoming > this.maxBytes && keepFrom !== Number.POSITIVE_INFINITY) {
      throw this.full(incoming);
    }
    const acks = messages.map((m) => this.append(m, now));
    // Without durable consumers nobody waits for a message, so older ones of this batch may go
    // too; the newest stays for the next consumer to start at.
    this.dropOldest(Math.min(keepFrom, this.last), 0);
    this.changed();
    return acks;
  }

  private append(message: OutgoingMessage, now: number): PublishAck {
    const earlier = message.id === undefined ? undefined : this.seen.get(message.id);
    if (earlier) return { seq: earlier.seq, duplicate: true };
    const seq = ++this.last;
    const stored: StoredMessage = {
      seq,
      key: message.key,
      data: message.data.slice(),
      id: message.id ?? null,
      headers: { ...message.headers },
      bytes: sizeOf(message),
    };
    this.log.push(stored);
    this.bytes += stored.bytes;
    if (message.id !== undefined) this.seen.set(message.id, { seq, at: now });
    return { seq, duplicate: false };
  }

  /** The message at seq, or undefined when it was trimmed or not yet written. */
  at(seq: number): StoredMessage | undefined {
    const message = this.log[this.head + seq - this.firstSeq];
    return message?.seq === seq ? message : undefined;
  }

  /** Wakes every consumer waiting on this topic. */
  changed(): void {
    this.signal.fire();
  }

  /** Resolves at the next change. */
  nextChange(): Promise<void> {
    return this.signal.wait();
  }

  private forgetOldIds(now: number): void {
    for (const [id, entry] of this.seen) {
      if (now - entry.at < DEDUP_WINDOW_MS) break;
      this.seen.delete(id);
    }
  }

  /** Bytes the messages add: duplicates of a remembered or an earlier id in the batch add none. */
  private newBytes(messages: readonly OutgoingMessage[]): number {
    const ids = new Set<string>();
    let total = 0;
    for (const m of messages) {
      if (m.id !== undefined && (this.seen.has(m.id) || ids.has(m.id))) continue;
      if (m.id !== undefined) ids.add(m.id);
      total += sizeOf(m);
    }
    return total;
  }

  /** Drops the oldest messages below `keepFrom` until `incoming` more bytes fit. */
  private dropOldest(keepFrom: number, incoming: number): void {
    while (this.bytes + incoming > this.maxBytes && this.head < this.log.length) {
      const oldest = this.log[this.head]!;
      if (oldest.seq >= keepFrom) break;
      this.bytes -= oldest.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
  }

  /** The lowest seq some durable consumer has not acked yet; Infinity without durable consumers. */
  private lowestUnacked(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const durable of this.durables.values()) {
      lowest = Math.min(lowest, durable.nextSeq);
      for (const seq of durable.pending.keys()) lowest = Math.min(lowest, seq);
    }
    return lowest;
  }

  private full(incoming: number): MeridianError {
    return new MeridianError(
      'RESOURCE_EXHAUSTED',
      `the in-process event stream is full: topic ${JSON.stringify(this.name)} holds ${this.bytes} bytes from its oldest message a durable consumer has not acked on, and ${incoming} more would exceed its limit of ${this.maxBytes} bytes (maxTopicBytes); nothing was published`,
      {
        topic: this.name,
        limitBytes: this.maxBytes,
        hint: 'consume (and ack) faster, or use NATS (eventStream "nats://host:port") for a disk-backed stream',
      },
    );
  }
}
