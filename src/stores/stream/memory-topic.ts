/**
 * One topic of the embedded stream: an append-only log with id deduplication, the durable
 * consumers' positions, and a change signal consumers wait on.
 */

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
  nextSeq = 1;
  readonly pending = new Map<number, PendingDelivery>();
  constructor(public options: ResolvedConsumerOptions) {}
}

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

  /** Appends a message unless its id was seen within the dedup window. */
  append(message: OutgoingMessage, now: number): PublishAck {
    this.forgetOldIds(now);
    const earlier = message.id === undefined ? undefined : this.seen.get(message.id);
    if (earlier) return { seq: earlier.seq, duplicate: true };
    const seq = ++this.last;
    const stored: StoredMessage = {
      seq,
      key: message.key,
      data: message.data.slice(),
      id: message.id ?? null,
      headers: { ...message.headers },
      bytes: message.data.byteLength + message.key.length,
    };
    this.log.push(stored);
    this.bytes += stored.bytes;
    if (message.id !== undefined) this.seen.set(message.id, { seq, at: now });
    this.trim();
    this.changed();
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

  /** Drops the oldest messages past the byte budget, keeping at least the newest one. */
  private trim(): void {
    while (this.bytes > this.maxBytes && this.log.length - this.head > 1) {
      this.bytes -= this.log[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
  }
}
