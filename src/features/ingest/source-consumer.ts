/**
 * One source's durable consumer: every message's events go through `Ingestor.push`, and the
 * message is acked only once the push resolved, that is once its rows are durable in both stores.
 *
 * Concurrency and order. Messages of different keys are pushed concurrently, up to the consumer's
 * in-flight bound, so the ingestor's batcher merges them into few writes. Messages of one key are
 * never pushed concurrently: while a key's push runs, its later messages wait, and then go as one
 * push (their events concatenated in delivery order, up to `maxGroupEvents`). So a key's events
 * are written in first-delivery order, which is publish order, and ingestion assigns
 * `created_timestamp` in that order: a correction (same entity and event time) published later
 * wins, online and point-in-time. Relying on the ingestor keeping the order of concurrent pushes
 * would tie this to its internals; serialising per key costs nothing for other keys, and merging
 * keeps a hot key at one push per batch rather than one per message.
 *
 * Failures. A poison message (bad events, unknown source) goes to the dead-letter topic at once,
 * with the error as its reason, through the port's `deadLetter` (one DLQ shape for every
 * consumer), and never blocks other messages. A failed merged push is retried message by message
 * so only the poison one is dead-lettered. Any other failure naks the message with exponential
 * backoff; the messages of its key already waiting are nak'ed with it, so they do not overtake
 * it. A message redelivered after a crash or timeout is pushed again and dropped by event-id
 * deduplication, so no row is written twice.
 */
import type { Logger } from '../../core/logger.js';
import type { Consumer, EventStream, StreamMessage } from '../../stores/stream/port.js';
import { type IngestQuality, violationOf } from '../quality/hooks.js';
import type { Ingestor } from './push.js';
import { decodeEvents, isPoison, poisonReason, type RetryPolicy, retryDelay } from './stream-message.js';
import { eventsConsumerName, eventsTopic } from './stream-producer.js';

export interface SourceConsumerSettings {
  maxInFlight: number;
  ackWaitMs: number;
  maxDeliver: number;
  retry: RetryPolicy;
  /** Most events one merged push of a key carries (a single larger message still goes whole). */
  maxGroupEvents: number;
  /** How long close waits for pushes in flight before leaving their messages to redelivery. */
  drainTimeoutMs: number;
}

interface Delivery {
  message: StreamMessage;
  events: unknown[];
}

/** Pulls in parallel so a NATS consumer fetches in batches instead of one message per request. */
const MAX_LANES = 32;

export class SourceConsumer {
  /** Keys with a push running, and their messages waiting behind it. */
  private readonly waiting = new Map<string, Delivery[]>();
  private readonly running = new Set<Promise<void>>();
  private readonly lanes: Promise<void>[];
  private stopped = false;

  private constructor(
    readonly source: string,
    private readonly consumer: Consumer,
    private readonly ingestor: Ingestor,
    private readonly settings: SourceConsumerSettings,
    private readonly logger: Logger,
    private readonly quality: IngestQuality | undefined,
  ) {
    const lanes = Math.min(MAX_LANES, settings.maxInFlight);
    this.lanes = Array.from({ length: lanes }, () => this.lane());
  }

  /** Creates the source's topic when missing and starts its durable consumer. */
  static async start(
    stream: EventStream,
    source: string,
    ingestor: Ingestor,
    settings: SourceConsumerSettings,
    logger: Logger,
    quality?: IngestQuality,
  ): Promise<SourceConsumer> {
    const topic = eventsTopic(source);
    await stream.ensureTopic(topic);
    const consumer = await stream.consume(topic, {
      name: eventsConsumerName(source),
      maxInFlight: settings.maxInFlight,
      ackWaitMs: settings.ackWaitMs,
      maxDeliver: settings.maxDeliver,
    });
    return new SourceConsumer(source, consumer, ingestor, settings, logger.child({ source, topic }), quality);
  }

  /** Whether the consumer stopped, by close or because the stream failed for good. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Stops taking messages and waits up to `drainTimeoutMs` for the pushes in flight to be acked;
   * messages still unacked then are redelivered to the next consumer of the name after the ack wait.
   */
  async close(): Promise<void> {
    this.stopped = true;
    await this.consumer.close();
    await Promise.all(this.lanes);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.drainTimeoutMs);
    });
    await Promise.race([Promise.all(this.running), timeout]);
    clearTimeout(timer);
  }

  private async lane(): Promise<void> {
    try {
      for await (const message of this.consumer) this.accept(message);
    } catch (err) {
      this.logger.error({ err }, 'event stream consumer failed; it restarts at the next refresh');
    } finally {
      this.stopped = true;
    }
  }

  private accept(message: StreamMessage): void {
    let events: unknown[];
    try {
      events = decodeEvents(message.data);
    } catch (err) {
      this.track(this.deadLetter(message, err));
      return;
    }
    const queue = this.waiting.get(message.key);
    if (queue) {
      queue.push({ message, events });
      return;
    }
    this.waiting.set(message.key, []);
    this.track(this.drive(message.key, [{ message, events }]));
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err) => this.logger.error({ err }, 'event stream message handling failed'));
    this.running.add(tracked);
    tracked.finally(() => this.running.delete(tracked));
  }

  /**
   * Pushes a key's messages one group at a time until none wait. Should it ever fail, the key is
   * released anyway: its unsettled messages come back after their ack wait instead of blocking it.
   */
  private async drive(key: string, first: Delivery[]): Promise<void> {
    let group = first;
    try {
      for (;;) {
        const retryAfter = await this.handle(group);
        const queue = this.waiting.get(key) ?? [];
        if (retryAfter !== undefined) await Promise.all(queue.splice(0).map((d) => this.nak(d, retryAfter)));
        if (queue.length === 0) return;
        group = this.takeGroup(queue);
      }
    } finally {
      this.waiting.delete(key);
    }
  }

  private takeGroup(queue: Delivery[]): Delivery[] {
    let events = queue[0]!.events.length;
    let n = 1;
    while (n < queue.length && events + queue[n]!.events.length <= this.settings.maxGroupEvents) {
      events += queue[n]!.events.length;
      n++;
    }
    return queue.splice(0, n);
  }

  /** Pushes a group and acks, dead-letters or naks it; answers the nak delay when it must be retried. */
  private async handle(group: Delivery[]): Promise<number | undefined> {
    try {
      await this.ingestor.push(
        this.source,
        group.flatMap((d) => d.events),
        { recordViolations: false },
      );
    } catch (err) {
      if (isPoison(err) && group.length > 1) return this.handleOneByOne(group);
      if (isPoison(err)) {
        await this.deadLetter(group[0]!.message, err);
        return undefined;
      }
      const delay = retryDelay(Math.max(...group.map((d) => d.message.deliveryCount)), this.settings.retry);
      this.logger.warn({ err, messages: group.length, retryInMs: delay }, 'ingesting stream events failed');
      await Promise.all(group.map((d) => this.nak(d, delay)));
      return delay;
    }
    await Promise.all(group.map((d) => this.ack(d.message)));
    return undefined;
  }

  /** After a merged push failed on bad input: each message alone, so only the poison one is dead-lettered. */
  private async handleOneByOne(group: Delivery[]): Promise<number | undefined> {
    for (let i = 0; i < group.length; i++) {
      const retryAfter = await this.handle([group[i]!]);
      if (retryAfter !== undefined) {
        await Promise.all(group.slice(i + 1).map((d) => this.nak(d, retryAfter)));
        return retryAfter;
      }
    }
    return undefined;
  }

  /** An ack that fails (stream down) leaves the message to redelivery, where dedup drops its events. */
  private async ack(message: StreamMessage): Promise<void> {
    await message.ack().catch((err) => {
      this.logger.warn({ err, seq: message.seq }, 'ack failed; the message will be redelivered');
    });
  }

  private async nak(delivery: Delivery, delayMs: number): Promise<void> {
    await delivery.message.nak(delayMs).catch((err) => {
      this.logger.warn(
        { err, seq: delivery.message.seq },
        'nak failed; the message comes back after its ack wait',
      );
    });
  }

  private async deadLetter(message: StreamMessage, err: unknown): Promise<void> {
    const reason = poisonReason(err);
    const violation = violationOf(err);
    if (violation) this.quality?.rejected(this.source, [violation]);
    this.logger.warn({ seq: message.seq, key: message.key, reason }, 'dead-lettering a poison message');
    await message.deadLetter(reason).catch((failure) => {
      this.logger.error(
        { err: failure, seq: message.seq },
        'dead-lettering failed; the message will be redelivered',
      );
    });
  }
}
