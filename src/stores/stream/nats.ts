/**
 * The event stream on NATS JetStream (works with nats-server 2.9+). One file-backed stream per
 * topic, named `MERIDIAN_<topic with "." as "~">`, on subjects `meridian.<topic>.<partition>` where
 * the partition is a hash of the key (the key itself travels URI-encoded in the `Meridian-Key`
 * header). Publishes carry `Nats-Msg-Id` for deduplication within a 2-minute window. Each consumer
 * name is a durable pull consumer with explicit acks, `ack_wait` = ackWaitMs and
 * `max_ack_pending` = maxInFlight; dead-lettering is done by the client (see nats-consumer.ts).
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos, headers as natsHeaders } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  invalidArgument,
  MeridianError,
  redactUrl,
  storeClosed,
  storeUnavailable,
} from '../../core/errors.js';
import { NatsConsumer } from './nats-consumer.js';
import {
  type Consumer,
  type ConsumerOptions,
  deadLetterTopic,
  type EventStream,
  type OutgoingMessage,
  type PublishAck,
} from './port.js';
import {
  DEDUP_WINDOW_MS,
  deadLetterMessage,
  HEADER_ALLOWANCE_BYTES,
  KEY_HEADER,
  partitionOf,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
  topicNotFound,
  validatePublish,
  validateTopic,
} from './rules.js';
import { UnseenDeliveries } from './unseen.js';

const CONNECT_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 5000;
const PUBLISH_WINDOW = 256;
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** The JetStream stream holding a topic ("." is not allowed in stream names, "~" is not in topics). */
export const streamNameOf = (topic: string): string => `MERIDIAN_${topic.replaceAll('.', '~')}`;
/** The subject a message of `key` is published on. */
export const subjectOf = (topic: string, key: string): string => `meridian.${topic}.${partitionOf(key)}`;

export interface NatsTarget {
  /** `host:port` entries to try. */
  servers: string[];
  /** The URL as configured, for messages (redacted before use). */
  url: string;
  user?: string;
  pass?: string;
}

const apiCode = (err: unknown): number | undefined =>
  err instanceof JetStreamApiError ? err.code : undefined;

export class NatsEventStream implements EventStream {
  readonly description: string;
  private readonly js: JetStreamClient;
  private readonly knownTopics = new Set<string>();
  private readonly consumers = new Set<NatsConsumer>();
  /** Per `<stream>/<durable name>`: deliveries no caller saw (see unseen.ts). */
  private readonly unseen = new Map<string, UnseenDeliveries>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    this.description = redactUrl(url);
    this.js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
  }

  /** Connects (failing within a few seconds when no server answers) and checks that JetStream is on. */
  static async connect(target: NatsTarget, logger: Logger): Promise<NatsEventStream> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: target.servers,
        timeout: CONNECT_TIMEOUT_MS,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        name: 'meridian',
        ...(target.user === undefined ? {} : { user: target.user, pass: target.pass ?? '' }),
      });
    } catch (err) {
      throw storeUnavailable(
        'event stream',
        target.url,
        `connecting to NATS (${target.servers.join(', ')})`,
        err,
      );
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS });
      return new NatsEventStream(nc, jsm, target.url, logger);
    } catch (err) {
      await nc.close().catch(() => {});
      throw storeUnavailable(
        'event stream',
        target.url,
        'using JetStream (is nats-server started with -js?)',
        err,
      );
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw storeClosed('event stream', this.description);
    try {
      await this.jsm.getAccountInfo();
    } catch (err) {
      throw this.unavailable('ping', err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const consumers = [...this.consumers];
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all(consumers.map((c) => c.finished()));
    await this.nc.drain().catch(() => this.nc.close());
  }

  async ensureTopic(topic: string): Promise<void> {
    validateTopic(topic);
    this.assertOpen();
    if (this.knownTopics.has(topic)) return;
    const name = streamNameOf(topic);
    try {
      await this.jsm.streams.info(name);
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw this.unavailable(`looking up topic ${topic}`, err);
      await this.createStream(topic, name);
    }
    this.knownTopics.add(topic);
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<PublishAck[]> {
    validatePublish(topic, messages);
    this.assertOpen();
    const maxPayload = this.nc.info?.max_payload;
    messages.forEach((m, i) => {
      if (maxPayload !== undefined && m.data.byteLength + HEADER_ALLOWANCE_BYTES > maxPayload) {
        throw invalidArgument(
          `messages[${i}].data`,
          `is ${m.data.byteLength} bytes; this NATS server accepts at most ${maxPayload - HEADER_ALLOWANCE_BYTES}`,
        );
      }
    });
    await this.requireTopic(topic);
    return this.publishUnchecked(topic, messages);
  }

  async consume(topic: string, options: ConsumerOptions): Promise<Consumer> {
    validateTopic(topic);
    const resolved = resolveConsumerOptions(options);
    this.assertOpen();
    await this.requireTopic(topic);
    await this.ensureTopic(deadLetterTopic(topic));
    const stream = streamNameOf(topic);
    try {
      await this.upsertConsumer(stream, resolved);
      const consumer = await this.js.consumers.get(stream, resolved.name);
      const ledger = `${stream}/${resolved.name}`;
      const unseen = this.unseen.get(ledger) ?? new UnseenDeliveries();
      this.unseen.set(ledger, unseen);
      const wrapped: NatsConsumer = new NatsConsumer({
        topic,
        options: resolved,
        consumer,
        connection: this.nc,
        unseen,
        deadLetter: async (source) => {
          await this.publishUnchecked(deadLetterTopic(topic), [deadLetterMessage(source)]);
        },
        unavailable: (doing, cause) => this.unavailable(doing, cause),
        connectionClosed: () => this.nc.isClosed(),
        ackTimeoutMs: REQUEST_TIMEOUT_MS,
        logger: this.logger,
        onClose: (c) => this.consumers.delete(c),
      });
      this.consumers.add(wrapped);
      return wrapped;
    } catch (err) {
      throw err instanceof MeridianError
        ? err
        : this.unavailable(`creating consumer ${resolved.name} on ${topic}`, err);
    }
  }

  private async createStream(topic: string, name: string): Promise<void> {
    try {
      await this.jsm.streams.add({
        name,
        description: `Meridian topic ${topic}`,
        // The bare subject takes plain `nats pub meridian.<topic>` publishes (no key: one partition).
        subjects: [`meridian.${topic}`, `meridian.${topic}.*`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(DEDUP_WINDOW_MS),
        num_replicas: 1,
      });
    } catch (err) {
      // Another process may have created it a moment ago.
      const exists = await this.jsm.streams.info(name).then(
        () => true,
        () => false,
      );
      if (!exists) throw this.unavailable(`creating topic ${topic}`, err);
    }
  }

  /** Creates the durable consumer, or updates its ack wait and in-flight bound when they changed. */
  private async upsertConsumer(stream: string, o: ResolvedConsumerOptions): Promise<void> {
    const ackWait = nanos(o.ackWaitMs);
    try {
      const info = await this.jsm.consumers.info(stream, o.name);
      if (info.config.ack_wait !== ackWait || info.config.max_ack_pending !== o.maxInFlight) {
        await this.jsm.consumers.update(stream, o.name, {
          ack_wait: ackWait,
          max_ack_pending: o.maxInFlight,
        });
      }
    } catch (err) {
      if (apiCode(err) !== CONSUMER_NOT_FOUND) throw err;
      await this.jsm.consumers.add(stream, {
        durable_name: o.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ackWait,
        max_deliver: -1,
        max_ack_pending: o.maxInFlight,
      });
    }
  }

  private async requireTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    try {
      await this.jsm.streams.info(streamNameOf(topic));
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) throw topicNotFound(topic);
      throw this.unavailable(`looking up topic ${topic}`, err);
    }
    this.knownTopics.add(topic);
  }

  /** Publishes in order, pipelining up to PUBLISH_WINDOW acks at a time. */
  private async publishUnchecked(topic: string, messages: readonly OutgoingMessage[]): Promise<PublishAck[]> {
    const acks: PublishAck[] = [];
    for (let i = 0; i < messages.length; i += PUBLISH_WINDOW) {
      const window = messages.slice(i, i + PUBLISH_WINDOW);
      acks.push(...(await Promise.all(window.map((m) => this.publishOne(topic, m)))));
    }
    return acks;
  }

  private async publishOne(topic: string, message: OutgoingMessage): Promise<PublishAck> {
    const h = natsHeaders();
    h.set(KEY_HEADER, encodeURIComponent(message.key));
    for (const [name, value] of Object.entries(message.headers ?? {})) h.set(name, value);
    try {
      const ack = await this.js.publish(subjectOf(topic, message.key), message.data, {
        headers: h,
        expect: { streamName: streamNameOf(topic) },
        timeout: REQUEST_TIMEOUT_MS,
        ...(message.id === undefined ? {} : { msgID: message.id }),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw this.unavailable(`publishing to ${topic}`, err);
    }
  }

  private unavailable(doing: string, cause: unknown): MeridianError {
    if (this.closed) return storeClosed('event stream', this.description);
    return storeUnavailable('event stream', this.url, doing, cause);
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed('event stream', this.description);
  }
}
