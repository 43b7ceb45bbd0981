/**
 * Labels from the event stream: a durable consumer of the `labels` topic (NATS subject
 * `meridian.labels`), where a message is one label or `{"labels": [...]}`, the body of
 * `POST /v1/labels`. Each message is stored through the same label store as the REST route, then
 * acked; a message that is not labels goes to the dead-letter topic with the reason, and a store
 * failure asks for redelivery, so no label is lost to an outage.
 */
import { isMeridianError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Consumer, EventStream, StreamMessage } from '../../stores/stream/port.js';
import { parseLabelsRequest } from './schema.js';
import type { LabelIngestResult, LabelStore } from './store.js';

export const LABELS_TOPIC = 'labels';
export const LABELS_CONSUMER = 'monitoring-labels';

export interface LabelConsumerOptions {
  /** Redelivery delay after a store failure; default 1 s. */
  retryDelayMs?: number;
}

/** The parsed labels of a message, or the reason it holds none. */
function labelsOf(message: StreamMessage) {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(message.data).toString('utf8'));
  } catch (err) {
    throw new SyntaxError(`not JSON: ${(err as Error).message}`);
  }
  const isBatch = body !== null && typeof body === 'object' && 'labels' in body;
  return parseLabelsRequest(isBatch ? body : { labels: [body] }).labels;
}

/** Stores the labels the `labels` topic carries, one message at a time. */
export class LabelConsumer {
  /** Totals since start, for logs and tests. */
  readonly totals: LabelIngestResult & { deadLettered: number } = {
    accepted: 0,
    duplicates: 0,
    unknown: 0,
    outsideLookback: 0,
    deadLettered: 0,
  };
  private readonly loop: Promise<void>;

  private constructor(
    private readonly consumer: Consumer,
    private readonly labels: LabelStore,
    private readonly logger: Logger,
    private readonly retryDelayMs: number,
  ) {
    this.loop = this.receive();
  }

  /** Creates the topic when missing and starts the durable consumer. */
  static async start(
    stream: EventStream,
    labels: LabelStore,
    logger: Logger,
    options: LabelConsumerOptions = {},
  ): Promise<LabelConsumer> {
    await stream.ensureTopic(LABELS_TOPIC);
    const consumer = await stream.consume(LABELS_TOPIC, { name: LABELS_CONSUMER, maxInFlight: 64 });
    return new LabelConsumer(
      consumer,
      labels,
      logger.child({ service: 'label-consumer' }),
      options.retryDelayMs ?? 1000,
    );
  }

  /** Stops consuming after the message in hand; unacked ones wait for the next consumer. */
  async close(): Promise<void> {
    await this.consumer.close();
    await this.loop;
  }

  private async receive(): Promise<void> {
    try {
      for await (const message of this.consumer) await this.handle(message);
    } catch (err) {
      this.logger.error({ err }, 'labels consumer failed; restart the process to resume it');
    }
  }

  private async handle(message: StreamMessage): Promise<void> {
    let parsed: ReturnType<typeof labelsOf>;
    try {
      parsed = labelsOf(message);
    } catch (err) {
      this.totals.deadLettered++;
      this.logger.warn(
        { seq: message.seq, err: String(err) },
        'a labels message is not labels; dead-lettered',
      );
      await message
        .deadLetter(`not labels: ${err instanceof Error ? err.message : String(err)}`)
        .catch(() => undefined);
      return;
    }
    try {
      const result = await this.labels.ingest(parsed);
      for (const key of ['accepted', 'duplicates', 'unknown', 'outsideLookback'] as const) {
        this.totals[key] += result[key];
      }
      await message.ack();
    } catch (err) {
      const level = isMeridianError(err, 'INVALID_ARGUMENT') ? 'warn' : 'error';
      this.logger[level]({ err, seq: message.seq }, 'storing labels failed; the message is redelivered');
      await message.nak(this.retryDelayMs).catch(() => undefined);
    }
  }
}
