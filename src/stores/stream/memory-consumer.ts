/**
 * A consumer of the embedded stream. Messages are handed out only when the iterator asks, so
 * nothing is prefetched: first deliveries go in topic order, due redeliveries go first, and at
 * most `maxInFlight` messages of a durable name are unacked at once.
 */

import { isMeridianError, type MeridianError } from '../../core/errors.js';
import { iterateUntilClosed } from './iterate.js';
import type { DurableState, MemoryTopic, PendingDelivery, StoredMessage } from './memory-topic.js';
import type { Consumer, StreamMessage } from './port.js';
import {
  type DeadLetterSource,
  deadLetterReason,
  exhausted,
  validateDelay,
  validateReason,
} from './rules.js';

/** Stores a dead-letter message; throws RESOURCE_EXHAUSTED when the dead-letter topic is full. */
export type DeadLetterSink = (source: DeadLetterSource) => void;

export class MemoryConsumer implements Consumer {
  private closed = false;

  constructor(
    private readonly topic: MemoryTopic,
    private readonly durable: DurableState,
    private readonly deadLetter: DeadLetterSink,
    private readonly onClose: (consumer: MemoryConsumer) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<StreamMessage> {
    return iterateUntilClosed(
      () => this.take(),
      () => this.close(),
    );
  }

  /** Stops handing out messages; unacked ones are redelivered after their ack wait. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Waiters sleep on the topic's signal; waking them all lets this one see `closed`.
    this.topic.changed();
    this.onClose(this);
  }

  private async take(): Promise<StreamMessage | null> {
    while (!this.closed) {
      const now = Date.now();
      const message = this.redeliver(now) ?? this.deliverNext(now);
      if (message) return message;
      await this.waitForWork(now);
    }
    return null;
  }

  /** The lowest-seq pending message whose ack wait or nak delay is over, dead-lettering exhausted ones. */
  private redeliver(now: number): StreamMessage | undefined {
    const { pending, options } = this.durable;
    for (;;) {
      let seq = Number.POSITIVE_INFINITY;
      for (const [s, p] of pending) if (p.dueAt <= now && s < seq) seq = s;
      const delivery = pending.get(seq);
      if (!delivery) return undefined;
      const stored = this.topic.at(seq);
      if (!stored) {
        pending.delete(seq);
        continue;
      }
      if (!exhausted(delivery.deliveries, options.maxDeliver)) {
        delivery.deliveries++;
        delivery.dueAt = now + options.ackWaitMs;
        this.sweepIfLast(stored, delivery);
        return this.wrap(stored, delivery);
      }
      this.moveToDeadLetter(stored, delivery, this.timedOut(delivery));
    }
  }

  private deliverNext(now: number): StreamMessage | undefined {
    const { durable, topic } = this;
    if (durable.pending.size >= durable.options.maxInFlight) return undefined;
    const stored = durable.nextSeq <= topic.lastSeq ? topic.at(durable.nextSeq) : undefined;
    if (!stored) return undefined;
    durable.nextSeq++;
    const delivery = { deliveries: 1, dueAt: now + durable.options.ackWaitMs };
    durable.pending.set(stored.seq, delivery);
    this.sweepIfLast(stored, delivery);
    return this.wrap(stored, delivery);
  }

  /**
   * A last allowed delivery that times out is dead-lettered when its ack wait ends, even if
   * nobody asks for the next message, as the NATS consumer does when the server redelivers it.
   */
  private sweepIfLast(stored: StoredMessage, delivery: PendingDelivery): void {
    if (!exhausted(delivery.deliveries, this.durable.options.maxDeliver)) return;
    const deliveries = delivery.deliveries;
    const timer = setTimeout(() => {
      const { pending } = this.durable;
      const p = pending.get(stored.seq);
      if (this.closed || p !== delivery || p.deliveries !== deliveries || p.dueAt > Date.now()) return;
      this.moveToDeadLetter(stored, delivery, this.timedOut(delivery));
    }, this.durable.options.ackWaitMs);
    timer.unref();
  }

  /**
   * Sleeps until the topic changes (a publish, an ack, a nak or a close) or the next pending
   * message is due. Only promises that settle take part, so no reaction outlives the wait.
   */
  private async waitForWork(now: number): Promise<void> {
    let nextDue = Number.POSITIVE_INFINITY;
    for (const p of this.durable.pending.values()) nextDue = Math.min(nextDue, p.dueAt);
    const change = this.topic.nextChange();
    if (nextDue === Number.POSITIVE_INFINITY) return change;
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(1, nextDue - now));
    });
    await Promise.race([change, due]);
    clearTimeout(timer);
  }

  /**
   * Moves an exhausted delivery to the dead-letter topic. When that topic is full the message
   * stays pending and the move is tried again after another ack wait, so nothing is lost; the
   * RESOURCE_EXHAUSTED error is returned then.
   */
  private moveToDeadLetter(
    stored: StoredMessage,
    delivery: PendingDelivery,
    reason: string,
  ): MeridianError | undefined {
    const { name, ackWaitMs } = this.durable.options;
    const { deliveries } = delivery;
    try {
      this.deadLetter({
        topic: this.topic.name,
        consumer: name,
        key: stored.key,
        data: stored.data,
        headers: stored.headers,
        seq: stored.seq,
        deliveries,
        reason,
      });
    } catch (err) {
      if (!isMeridianError(err, 'RESOURCE_EXHAUSTED')) throw err;
      delivery.dueAt = Date.now() + ackWaitMs;
      return err;
    }
    this.durable.pending.delete(stored.seq);
    this.topic.changed();
    return undefined;
  }

  private timedOut(delivery: PendingDelivery): string {
    return deadLetterReason('timeout', delivery.deliveries, this.durable.options.ackWaitMs);
  }

  private wrap(stored: StoredMessage, delivery: PendingDelivery): StreamMessage {
    const { pending } = this.durable;
    const deliveryCount = delivery.deliveries;
    let settled = false;
    const current = (): PendingDelivery | undefined => {
      const p = pending.get(stored.seq);
      return p === delivery && p.deliveries === deliveryCount ? p : undefined;
    };
    return {
      topic: this.topic.name,
      key: stored.key,
      data: stored.data.slice(),
      id: stored.id,
      headers: { ...stored.headers },
      seq: stored.seq,
      deliveryCount,
      ack: async () => {
        if (settled) return;
        settled = true;
        if (pending.get(stored.seq) === delivery) {
          pending.delete(stored.seq);
          this.topic.changed();
        }
      },
      nak: async (delayMs?: number) => {
        const delay = validateDelay(delayMs);
        if (settled) return;
        settled = true;
        const p = current();
        if (!p) return;
        if (exhausted(p.deliveries, this.durable.options.maxDeliver)) {
          this.moveToDeadLetter(stored, p, deadLetterReason('nak', p.deliveries, 0));
          return;
        }
        p.dueAt = Date.now() + delay;
        this.topic.changed();
      },
      deadLetter: async (reason: string) => {
        const line = validateReason(reason);
        if (settled) return;
        settled = true;
        const p = current();
        const failure = p && this.moveToDeadLetter(stored, p, line);
        if (failure) throw failure;
      },
    };
  }
}
