/**
 * The prediction log's consumer, run by the target that owns the offline store: a durable consumer
 * of `predictions` appending events in batches to the offline `predictions` table, acking only after
 * the append is durable, so a restart resumes where the last acked batch ended.
 */
import type { Logger } from '../core/logger.js';
import type { OfflineStore } from '../stores/offline/port.js';
import type { Consumer, EventStream, StreamMessage } from '../stores/stream/port.js';
import {
  PREDICTIONS_SCHEMA,
  PREDICTIONS_TABLE,
  PREDICTIONS_TOPIC,
  type PredictionEvent,
  predictionRow,
} from './prediction-log-event.js';

export const PREDICTIONS_CONSUMER = 'offline-predictions';

export interface PredictionSinkOptions {
  /** Rows per append, at most; default 1000. */
  batchSize?: number;
  /** A partial batch is appended after this long; default 500 ms. */
  flushIntervalMs?: number;
  /** Redelivery delay after a failed append; default 1 s. */
  retryDelayMs?: number;
}

/** Appends the `predictions` topic to the offline `predictions` table in batches. */
export class PredictionSink {
  private pending: StreamMessage[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private readonly batchSize: number;
  private readonly retryDelayMs: number;

  private constructor(
    private readonly consumer: Consumer,
    private readonly offline: OfflineStore,
    private readonly logger: Logger,
    options: PredictionSinkOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 500);
    this.timer.unref();
    this.loop = this.receive();
  }

  /** Creates the topic and table when missing and starts the durable consumer. */
  static async start(
    stream: EventStream,
    offline: OfflineStore,
    logger: Logger,
    options: PredictionSinkOptions = {},
  ): Promise<PredictionSink> {
    await stream.ensureTopic(PREDICTIONS_TOPIC);
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    const batchSize = options.batchSize ?? 1000;
    const consumer = await stream.consume(PREDICTIONS_TOPIC, {
      name: PREDICTIONS_CONSUMER,
      maxInFlight: batchSize * 2,
    });
    return new PredictionSink(consumer, offline, logger.child({ service: 'prediction-sink' }), options);
  }

  /** Stops consuming and appends what was already received; the rest waits for the next sink. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer.close();
    await this.loop;
    await this.flush();
  }

  private async receive(): Promise<void> {
    try {
      for await (const message of this.consumer) {
        this.pending.push(message);
        if (this.pending.length >= this.batchSize) await this.flush();
      }
    } catch (err) {
      this.logger.error({ err }, 'predictions consumer failed; restart the process to resume it');
    }
  }

  /** Appends the pending messages; appends run one at a time, in order. */
  private flush(): Promise<void> {
    this.chain = this.chain.then(() => this.append(this.pending.splice(0)));
    return this.chain;
  }

  private async append(messages: StreamMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const good: StreamMessage[] = [];
    const rows: Record<string, unknown>[] = [];
    for (const message of messages) {
      try {
        // A message holds one event or, as the prediction log publishes them, an array of events.
        const parsed = JSON.parse(Buffer.from(message.data).toString('utf8')) as
          | PredictionEvent
          | PredictionEvent[];
        const own = (Array.isArray(parsed) ? parsed : [parsed]).map(predictionRow);
        rows.push(...own);
        good.push(message);
      } catch (err) {
        await message.deadLetter(`not a prediction event: ${String(err)}`).catch(() => undefined);
      }
    }
    if (rows.length === 0) return;
    try {
      await this.offline.append(PREDICTIONS_TABLE, rows);
    } catch (err) {
      this.logger.error({ err, rows: rows.length }, 'appending predictions failed; they are redelivered');
      await Promise.all(good.map((m) => m.nak(this.retryDelayMs).catch(() => undefined)));
      return;
    }
    await Promise.all(good.map((m) => m.ack()));
  }
}
