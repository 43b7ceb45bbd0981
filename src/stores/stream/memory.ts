/**
 * The embedded event stream: the same interface and semantics as the NATS one, inside the process.
 *
 * Lifetime: topics, messages and durable consumer positions live in this `EventStream` instance
 * only, so they last at most as long as the process and are gone after a restart or crash.
 * "Durably stored" means stored in this instance; a consumer that must survive a crash acks only
 * after it has written what it needs to a durable store, and the producer republishes with the
 * same ids after a restart. Use NATS where messages must outlive the process.
 *
 * Size: each topic holds at most `maxTopicBytes` (default 256 MiB) of message data. To make room
 * it drops the oldest messages every durable consumer has acked (or the oldest of all when the
 * topic has no durable consumer); a message that is not acked yet is never dropped. When that is
 * not enough, publish fails with RESOURCE_EXHAUSTED and stores nothing, so an acknowledged publish
 * is never lost to the limit.
 */
import { storeClosed } from '../../core/errors.js';
import { MemoryConsumer } from './memory-consumer.js';
import { DurableState, MemoryTopic } from './memory-topic.js';
import {
  type Consumer,
  type ConsumerOptions,
  deadLetterTopic,
  type EventStream,
  type OutgoingMessage,
  type PublishAck,
} from './port.js';
import {
  type DeadLetterSource,
  deadLetterMessage,
  resolveConsumerOptions,
  topicNotFound,
  validatePublish,
  validateTopic,
} from './rules.js';

export interface MemoryEventStreamOptions {
  /** Bytes of message data a topic holds; past it, publish fails unless acked messages can go. Default 256 MiB. */
  maxTopicBytes?: number;
}

export class MemoryEventStream implements EventStream {
  readonly description = 'memory';
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly consumers = new Set<MemoryConsumer>();
  private readonly maxTopicBytes: number;
  private closed = false;

  constructor(options: MemoryEventStreamOptions = {}) {
    this.maxTopicBytes = options.maxTopicBytes ?? 256 * 1024 * 1024;
  }

  async ping(): Promise<void> {
    if (this.closed) throw storeClosed('event stream', this.description);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
  }

  async ensureTopic(topic: string): Promise<void> {
    validateTopic(topic);
    this.assertOpen();
    if (!this.topics.has(topic)) this.topics.set(topic, new MemoryTopic(topic, this.maxTopicBytes));
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<PublishAck[]> {
    validatePublish(topic, messages);
    this.assertOpen();
    return this.topic(topic).appendAll(messages, Date.now());
  }

  async consume(topic: string, options: ConsumerOptions): Promise<Consumer> {
    validateTopic(topic);
    const resolved = resolveConsumerOptions(options);
    this.assertOpen();
    const log = this.topic(topic);
    await this.ensureTopic(deadLetterTopic(topic));
    let durable = log.durables.get(resolved.name);
    if (durable) durable.options = resolved;
    else {
      durable = new DurableState(resolved, log.firstSeq);
      log.durables.set(resolved.name, durable);
    }
    const consumer = new MemoryConsumer(
      log,
      durable,
      (source) => this.deadLetter(source),
      (c) => this.consumers.delete(c),
    );
    this.consumers.add(consumer);
    return consumer;
  }

  private deadLetter(source: DeadLetterSource): void {
    this.topic(deadLetterTopic(source.topic)).appendAll([deadLetterMessage(source)], Date.now());
  }

  private topic(topic: string): MemoryTopic {
    const log = this.topics.get(topic);
    if (!log) throw topicNotFound(topic);
    return log;
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed('event stream', this.description);
  }
}
