/**
 * A consumer on a JetStream durable pull consumer. Messages are pulled only for callers waiting
 * in `take()`, as many as are waiting, and handed to them as they arrive: a message never sits in
 * a client-side queue while its ack wait runs out. The server bounds unacked messages with
 * `max_ack_pending` = maxInFlight. The consumer has no server-side `max_deliver`: the client
 * dead-letters a message itself when it is nak'ed on its last allowed delivery, or comes back
 * once more after that delivery timed out, and then terms it, so it no longer takes an in-flight
 * slot. Delivery counts are those callers saw: a delivery that arrives while the consumer closes
 * is released and noted in `UnseenDeliveries`, so it never brings a message closer to the
 * dead-letter topic.
 */
import type { ConsumerMessages, Consumer as JsConsumer, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { sleep } from '../../core/clock.js';
import type { MeridianError } from '../../core/errors.js';
import { iterateUntilClosed } from './iterate.js';
import type { Consumer, StreamMessage } from './port.js';
import {
  type DeadLetterSource,
  deadLetterReason,
  exhausted,
  KEY_HEADER,
  type ResolvedConsumerOptions,
  validateDelay,
  validateReason,
} from './rules.js';
import { Signal } from './signal.js';
import type { UnseenDeliveries } from './unseen.js';

/** How long one pull request waits on the server for messages before the pump asks again. */
const FETCH_EXPIRES_MS = 1000;
/** Most messages one pull request asks for, however many callers wait. */
const MAX_BATCH = 64;
const MAX_BACKOFF_MS = 2000;
const ACK = new TextEncoder().encode('+ACK');

export interface NatsConsumerDeps {
  topic: string;
  options: ResolvedConsumerOptions;
  consumer: JsConsumer;
  /** Sends acks as requests, so each one can be confirmed and retried. */
  connection: Pick<NatsConnection, 'request'>;
  /** Deliveries of this durable name no caller saw, shared by its consumers in this process. */
  unseen: UnseenDeliveries;
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

/**
 * Acks and waits for the server to confirm. `JsMsg.ackAck` sends once per message and answers
 * every later call with `false` unsent, so a retry after a failure goes to the reply subject directly.
 */
async function confirmAck(
  m: JsMsg,
  connection: NatsConsumerDeps['connection'],
  timeout: number,
): Promise<void> {
  const reply = (m as { reply?: unknown }).reply;
  if (typeof reply === 'string' && reply !== '') {
    await connection.request(reply, ACK, { timeout });
  } else if (!(await m.ackAck({ timeout }))) {
    throw new Error('the message has no reply subject to ack on');
  }
}

export class NatsConsumer implements Consumer {
  /** Arrived for a waiting caller, about to be taken. */
  private readonly ready: JsMsg[] = [];
  /** Arrived or left over after close: released once the pull request has ended. */
  private readonly released: JsMsg[] = [];
  /** Fired when a message arrives, the pump fails or the consumer closes: takers look again. */
  private readonly arrived = new Signal();
  /** Fired when a taker starts waiting or the consumer closes: the pump looks at the demand. */
  private readonly wanted = new Signal();
  private waiting = 0;
  private batch: ConsumerMessages | null = null;
  private closed = false;
  private failure: MeridianError | null = null;
  private readonly pumping: Promise<void>;

  constructor(private readonly deps: NatsConsumerDeps) {
    this.pumping = this.pump();
  }

  [Symbol.asyncIterator](): AsyncGenerator<StreamMessage> {
    return iterateUntilClosed(
      () => this.take(),
      () => this.close(),
    );
  }

  /**
   * Stops handing out messages. The pull request in flight is left to end on the server (within
   * FETCH_EXPIRES_MS) before the messages no caller took are released with a nak: released
   * earlier, the server would hand them to that abandoned request again. `finished` resolves then.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.ready.splice(0)) this.release(m);
    this.arrived.fire();
    this.wanted.fire();
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
      const m = this.ready.shift();
      if (m) return this.wrap(m);
      this.waiting++;
      this.wanted.fire();
      try {
        await this.arrived.wait();
      } finally {
        this.waiting--;
      }
    }
  }

  /** Pulls what waiting callers ask for; each message goes to a caller as soon as it arrives. */
  private async pump(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const demand = Math.min(this.waiting - this.ready.length, MAX_BATCH, this.deps.options.maxInFlight);
      if (demand <= 0) {
        await this.wanted.wait();
        continue;
      }
      try {
        this.batch = await this.deps.consumer.fetch({ max_messages: demand, expires: FETCH_EXPIRES_MS });
        for await (const m of this.batch) this.accept(m);
        failures = 0;
      } catch (err) {
        if (this.closed) break;
        if (this.deps.connectionClosed()) {
          this.failure = this.deps.unavailable(`consuming ${this.deps.topic}`, err);
          this.arrived.fire();
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
    for (const m of this.ready.splice(0)) this.release(m);
    for (const m of this.released.splice(0)) m.nak();
  }

  private accept(m: JsMsg): void {
    const previous = this.deps.unseen.seenByCaller(m.seq, m.info.deliveryCount) - 1;
    if (previous > 0 && exhausted(previous, this.deps.options.maxDeliver)) {
      this.moveToDeadLetter(
        m,
        previous,
        deadLetterReason('timeout', previous, this.deps.options.ackWaitMs),
      ).catch((err) => {
        this.deps.logger.error(
          { err, topic: this.deps.topic, seq: m.seq },
          'dead-lettering failed; retrying later',
        );
      });
      return;
    }
    if (this.closed) {
      this.release(m);
      return;
    }
    this.ready.push(m);
    this.arrived.fire();
  }

  /** Sets aside a delivery no caller will see, noting it so it does not count as one. */
  private release(m: JsMsg): void {
    this.deps.unseen.record(m.seq);
    this.released.push(m);
  }

  /** Stores the message on the dead-letter topic, then terms it; on failure asks for a later retry. */
  private async moveToDeadLetter(m: JsMsg, deliveries: number, reason: string): Promise<void> {
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
        reason,
      });
    } catch (err) {
      m.nak(options.ackWaitMs);
      throw err;
    }
    m.term();
    this.deps.unseen.forget(m.seq);
  }

  /**
   * A last allowed delivery that times out is dead-lettered when its ack wait ends, even when no
   * caller waits for the next message (nothing is pulled then, so the server cannot bring it back).
   */
  private sweepIfLast(m: JsMsg, deliveries: number, busy: () => boolean): void {
    if (!exhausted(deliveries, this.deps.options.maxDeliver)) return;
    const timer = setTimeout(() => {
      if (this.closed || busy()) return;
      this.moveToDeadLetter(
        m,
        deliveries,
        deadLetterReason('timeout', deliveries, this.deps.options.ackWaitMs),
      ).catch((err) => {
        this.deps.logger.error(
          { err, topic: this.deps.topic, seq: m.seq },
          'dead-lettering failed; retrying later',
        );
      });
    }, this.deps.options.ackWaitMs);
    timer.unref();
  }

  private wrap(m: JsMsg): StreamMessage {
    const { topic, options, unseen } = this.deps;
    const deliveryCount = unseen.seenByCaller(m.seq, m.info.deliveryCount);
    let settled = false;
    let acking: Promise<void> | null = null;
    this.sweepIfLast(m, deliveryCount, () => settled || acking !== null);
    const ackOnce = async (): Promise<void> => {
      try {
        await confirmAck(m, this.deps.connection, this.deps.ackTimeoutMs);
      } catch (err) {
        throw this.deps.unavailable(`acking ${topic} seq ${m.seq}`, err);
      }
      settled = true;
      unseen.forget(m.seq);
    };
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
        // Settled only once the server confirmed, so a retry after a failed ack acks again.
        acking ??= ackOnce().finally(() => {
          acking = null;
        });
        await acking;
      },
      nak: async (delayMs?: number) => {
        const delay = validateDelay(delayMs);
        if (settled) return;
        settled = true;
        if (exhausted(deliveryCount, options.maxDeliver))
          await this.moveToDeadLetter(m, deliveryCount, deadLetterReason('nak', deliveryCount, 0));
        else m.nak(delay);
      },
      deadLetter: async (reason: string) => {
        const line = validateReason(reason);
        if (settled) return;
        settled = true;
        await this.moveToDeadLetter(m, deliveryCount, line);
      },
    };
  }
}
