/**
 * A consumer on a JetStream durable pull consumer. A pump fetches batches into a small buffer
 * the iterator drains; the server bounds unacked messages with `max_ack_pending` = maxInFlight.
 * The consumer has no server-side `max_deliver`: the client dead-letters a message itself when it
 * is nak'ed on its last allowed delivery, or comes back once more after that delivery timed out,
 * and then terms it, so it no longer takes an in-flight slot.
 */
import type { ConsumerMessages, Consumer as JsConsumer, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { MeridianError } from '../../core/errors.js';
import type { Consumer, StreamMessage } from './port.js';
import {
  type DeadLetterSource,
  deadLetterReason,
  exhausted,
  KEY_HEADER,
  type ResolvedConsumerOptions,
  validateDelay,
} from './rules.js';
import { Signal } from './signal.js';

/** How long one pull request waits on the server for messages before the pump asks again. */
const FETCH_EXPIRES_MS = 1000;
const MAX_BATCH = 64;
const MAX_BACKOFF_MS = 2000;

export interface NatsConsumerDeps {
  topic: string;
  options: ResolvedConsumerOptions;
  consumer: JsConsumer;
  /** Publishes the dead-letter message; resolves once it is stored. */
  deadLetter(source: DeadLetterSource): Promise<void>;
  /** Wraps a failure of the server into STORE_UNAVAILABLE. */
  unavailable(doing: string, cause: unknown): MeridianError;
  /** Whether the connection is closed for good. */
  connectionClosed(): boolean;
  ackTimeoutMs: number;
  logger: Logger;
  onClose(consumer: NatsConsumer): void;
}

/** Message headers without the ones the stream itself uses (`Nats-*` and the key). */
export function userHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of headers?.keys() ?? []) {
    if (name === KEY_HEADER || /^nats-/i.test(name)) continue;
    out[name] = headers!.get(name);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class NatsConsumer implements Consumer {
  private readonly buffer: JsMsg[] = [];
  private readonly signal = new Signal();
  private readonly batchSize: number;
  private batch: ConsumerMessages | null = null;
  private closed = false;
  private failure: MeridianError | null = null;
  private readonly pumping: Promise<void>;

  constructor(private readonly deps: NatsConsumerDeps) {
    this.batchSize = Math.min(deps.options.maxInFlight, MAX_BATCH);
    this.pumping = this.pump();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamMessage> {
    try {
      for (;;) {
        const message = await this.take();
        if (!message) return;
        yield message;
      }
    } finally {
      await this.close();
    }
  }

  /**
   * Stops handing out messages. The pull request in flight is left to end on the server (within
   * FETCH_EXPIRES_MS) before the fetched-but-unseen messages are released with a nak: released
   * earlier, the server would hand them to that abandoned request again. `finished` resolves then.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal.fire();
    this.deps.onClose(this);
    const batch = this.batch;
    if (batch) setTimeout(() => batch.stop(), FETCH_EXPIRES_MS + 1000).unref();
  }

  /** Resolves once the consumer has let go of everything it fetched. */
  finished(): Promise<void> {
    return this.pumping;
  }

  private async take(): Promise<StreamMessage | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closed) return null;
      const m = this.buffer.shift();
      if (m) {
        this.signal.fire();
        return this.wrap(m);
      }
      await this.signal.wait();
    }
  }

  private async pump(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (this.buffer.length > this.batchSize / 2) {
        await this.signal.wait();
        continue;
      }
      try {
        this.batch = await this.deps.consumer.fetch({
          max_messages: this.batchSize,
          expires: FETCH_EXPIRES_MS,
        });
        for await (const m of this.batch) this.accept(m);
        failures = 0;
      } catch (err) {
        if (this.closed) break;
        if (this.deps.connectionClosed()) {
          this.failure = this.deps.unavailable(`consuming ${this.deps.topic}`, err);
          this.signal.fire();
          break;
        }
        failures++;
        this.deps.logger.warn(
          { err, topic: this.deps.topic, failures },
          'event stream fetch failed; retrying',
        );
        await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** failures));
      } finally {
        this.batch = null;
      }
    }
    for (const m of this.buffer.splice(0)) m.nak();
  }

  private accept(m: JsMsg): void {
    const previous = m.info.deliveryCount - 1;
    if (previous > 0 && exhausted(previous, this.deps.options.maxDeliver)) {
      this.moveToDeadLetter(m, previous, 'timeout').catch((err) => {
        this.deps.logger.error(
          { err, topic: this.deps.topic, seq: m.seq },
          'dead-lettering failed; retrying later',
        );
      });
      return;
    }
    this.buffer.push(m);
    this.signal.fire();
  }

  /** Stores the message on the dead-letter topic, then terms it; on failure asks for a later retry. */
  private async moveToDeadLetter(m: JsMsg, deliveries: number, how: 'nak' | 'timeout'): Promise<void> {
    const { topic, options } = this.deps;
    try {
      await this.deps.deadLetter({
        topic,
        consumer: options.name,
        key: decodeURIComponent(m.headers?.get(KEY_HEADER) ?? ''),
        data: m.data,
        headers: userHeaders(m.headers),
        seq: m.seq,
        deliveries,
        reason: deadLetterReason(how, deliveries, options.ackWaitMs),
      });
    } catch (err) {
      m.nak(options.ackWaitMs);
      throw err;
    }
    m.term();
  }

  private wrap(m: JsMsg): StreamMessage {
    const { topic, options, ackTimeoutMs } = this.deps;
    const deliveryCount = m.info.deliveryCount;
    let settled = false;
    return {
      topic,
      key: decodeURIComponent(m.headers?.get(KEY_HEADER) ?? ''),
      data: new Uint8Array(m.data),
      id: m.headers?.get('Nats-Msg-Id') || null,
      headers: userHeaders(m.headers),
      seq: m.seq,
      deliveryCount,
      ack: async () => {
        if (settled) return;
        settled = true;
        try {
          await m.ackAck({ timeout: ackTimeoutMs });
        } catch (err) {
          throw this.deps.unavailable(`acking ${topic} seq ${m.seq}`, err);
        }
      },
      nak: async (delayMs?: number) => {
        const delay = validateDelay(delayMs);
        if (settled) return;
        settled = true;
        if (exhausted(deliveryCount, options.maxDeliver))
          await this.moveToDeadLetter(m, deliveryCount, 'nak');
        else m.nak(delay);
      },
    };
  }
}
