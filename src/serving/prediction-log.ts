/**
 * The prediction log's producer: every predicted row becomes a line on the `predictions` topic.
 * Requests only append their observation to a bounded in-memory buffer; a background timer writes
 * and publishes it in batches, so the request path never waits on the stream or on encoding. When
 * the buffer is full the rows are dropped and counted, never queued without bound: the log is
 * telemetry and must not take the server's memory down.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { EventStream, OutgoingMessage } from '../stores/stream/port.js';
import type { InferenceObservation, InferenceObserver } from './inference-observation.js';
import { PREDICTIONS_TOPIC, predictionLines } from './prediction-log-event.js';

export interface PredictionLogOptions {
  /** Rows buffered at most; default 10 000. */
  capacity?: number;
  /** Rows per publish (the serving thread encodes one batch between requests); default 128. */
  batchSize?: number;
  /** How often the buffer is published; default 100 ms. */
  flushIntervalMs?: number;
  /** At most one drop warning per this long; default 10 s. */
  warnIntervalMs?: number;
}

/** An observation waiting to be published, with how many of its rows fitted in the buffer. */
interface Pending {
  observation: InferenceObservation;
  rows: number;
}

const DROPPED = 'meridian_prediction_log_dropped_total';

/** Buffers prediction events and publishes them in the background. */
export class PredictionLog implements InferenceObserver {
  private buffer: Pending[] = [];
  private bufferedRows = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private readonly dropped: Counter<'reason'>;
  private droppedSinceWarning = 0;
  private lastWarning = 0;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly warnIntervalMs: number;

  private constructor(
    private readonly stream: EventStream,
    registry: Registry,
    private readonly logger: Logger,
    options: PredictionLogOptions,
  ) {
    this.capacity = options.capacity ?? 10_000;
    this.batchSize = options.batchSize ?? 128;
    this.warnIntervalMs = options.warnIntervalMs ?? 10_000;
    this.dropped =
      (registry.getSingleMetric(DROPPED) as Counter<'reason'> | undefined) ??
      new Counter({
        name: DROPPED,
        help: 'Prediction log events dropped, by reason (buffer_full, publish_failed)',
        labelNames: ['reason'] as const,
        registers: [registry],
      });
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  /** Creates the `predictions` topic when missing and starts the background publisher. */
  static async start(
    stream: EventStream,
    registry: Registry,
    logger: Logger,
    options: PredictionLogOptions = {},
  ): Promise<PredictionLog> {
    await stream.ensureTopic(PREDICTIONS_TOPIC);
    return new PredictionLog(stream, registry, logger.child({ service: 'prediction-log' }), options);
  }

  /** Buffers the observation's rows; drops (and counts) the rows that do not fit. */
  observe(observation: InferenceObservation): void {
    if (!observation.ok || !observation.batch) return;
    const rows = observation.batch.rows;
    const fits = Math.max(0, Math.min(rows, this.capacity - this.bufferedRows));
    if (fits > 0) {
      this.buffer.push({ observation, rows: fits });
      this.bufferedRows += fits;
    }
    if (fits < rows) this.drop('buffer_full', rows - fits);
  }

  /** Rows waiting to be published. */
  get buffered(): number {
    return this.bufferedRows;
  }

  /** Publishes everything buffered now; one publish runs at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and publishes what is buffered. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.take();
      const rows = batch.reduce((n, p) => n + p.rows, 0);
      try {
        await this.stream.publish(PREDICTIONS_TOPIC, toMessages(batch));
      } catch (err) {
        this.drop('publish_failed', rows, err);
        return;
      }
      // Lets requests in between batches: a backlog is written a batch at a time, never in one block.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Observations from the head of the buffer, about batchSize rows (at least one observation). */
  private take(): Pending[] {
    let rows = 0;
    let count = 0;
    while (count < this.buffer.length && (count === 0 || rows + this.buffer[count]!.rows <= this.batchSize)) {
      rows += this.buffer[count]!.rows;
      count++;
    }
    this.bufferedRows -= rows;
    return this.buffer.splice(0, count);
  }

  private drop(reason: string, count: number, err?: unknown): void {
    this.dropped.inc({ reason }, count);
    this.droppedSinceWarning += count;
    const now = Date.now();
    if (now - this.lastWarning < this.warnIntervalMs) return;
    this.logger.warn(
      { reason, dropped: this.droppedSinceWarning, capacity: this.capacity, err },
      'prediction log events dropped; the event stream is slow or down, or raise the buffer capacity',
    );
    this.lastWarning = now;
    this.droppedSinceWarning = 0;
  }
}

/**
 * One message per model per batch, holding its rows' lines: a message per prediction row cost the
 * serving process about half its throughput on the in-process stream.
 */
function toMessages(batch: readonly Pending[]): OutgoingMessage[] {
  const byModel = new Map<string, Buffer[]>();
  for (const { observation, rows } of batch) {
    const parts = byModel.get(observation.model) ?? [];
    // The lines are ASCII, so latin1 is an exact encoding and a plain copy.
    parts.push(Buffer.from(predictionLines(observation, rows), 'latin1'));
    byModel.set(observation.model, parts);
  }
  // No dedup id: clients choose request ids and may reuse them; each batch is published once.
  return [...byModel].map(([model, parts]) => ({ key: model, data: Buffer.concat(parts) }));
}
