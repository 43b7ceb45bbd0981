/**
 * The prediction log's consumer, run by the target that owns the offline store: a durable consumer
 * of `predictions` appending lines in batches to the offline `predictions` table, acking only after
 * the insert committed, so a restart resumes where the last acked batch ended. A batch's lines are
 * written to a scratch file and inserted by DuckDB's JSON reader on its own threads: parsing and
 * appending them row by row in JavaScript blocked the serving thread for hundreds of milliseconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { OfflineStore } from '../stores/offline/port.js';
import type { Consumer, EventStream, StreamMessage } from '../stores/stream/port.js';
import {
  PREDICTION_LINE_COLUMNS,
  PREDICTIONS_SCHEMA,
  PREDICTIONS_TABLE,
  PREDICTIONS_TOPIC,
} from './prediction-log-event.js';

export const PREDICTIONS_CONSUMER = 'offline-predictions';

export interface PredictionSinkOptions {
  /** Rows per append, at most; default 1000. */
  batchSize?: number;
  /** Bytes of lines per insert, at most (one message may exceed it alone); default 4 MiB. */
  maxBatchBytes?: number;
  /** A partial batch is appended after this long; default 500 ms. */
  flushIntervalMs?: number;
  /** Redelivery delay after a failed append; default 1 s. */
  retryDelayMs?: number;
}

/** Appends the `predictions` topic to the offline `predictions` table in batches. */
export class PredictionSink {
  private pending: StreamMessage[] = [];
  private pendingBytes = 0;
  private readonly maxBatchBytes: number;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private readonly batchSize: number;
  private readonly retryDelayMs: number;
  private readonly scratch = mkdtempSync(join(tmpdir(), 'meridian-predictions-'));
  private files = 0;

  private constructor(
    private readonly consumer: Consumer,
    private readonly offline: OfflineStore,
    private readonly logger: Logger,
    options: PredictionSinkOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
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
    await typeFeatures(offline);
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
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async receive(): Promise<void> {
    try {
      for await (const message of this.consumer) {
        this.pending.push(message);
        this.pendingBytes += message.data.length;
        if (this.pending.length >= this.batchSize || this.pendingBytes >= this.maxBatchBytes)
          await this.flush();
      }
    } catch (err) {
      this.logger.error({ err }, 'predictions consumer failed; restart the process to resume it');
    }
  }

  /** Appends the pending messages; appends run one at a time, in order. */
  private flush(): Promise<void> {
    const batch = this.pending.splice(0);
    this.pendingBytes = 0;
    this.chain = this.chain.then(() => this.append(batch));
    return this.chain;
  }

  private async append(messages: StreamMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.insert(messages);
    } catch (err) {
      if (!isBadData(err)) {
        this.logger.error(
          { err, messages: messages.length },
          'appending predictions failed; they are redelivered',
        );
        await Promise.all(messages.map((m) => m.nak(this.retryDelayMs).catch(() => undefined)));
        return;
      }
      // Some message is not prediction lines: insert one by one, so only the bad ones go aside.
      for (const message of messages) await this.appendAlone(message);
      return;
    }
    await Promise.all(messages.map((m) => m.ack()));
  }

  private async appendAlone(message: StreamMessage): Promise<void> {
    try {
      await this.insert([message]);
    } catch (err) {
      if (isBadData(err)) {
        await message.deadLetter(`not prediction log lines: ${String(err)}`).catch(() => undefined);
      } else {
        await message.nak(this.retryDelayMs).catch(() => undefined);
      }
      return;
    }
    await message.ack();
  }

  /** Inserts the messages' lines in one statement, through a scratch file DuckDB reads. */
  private async insert(messages: readonly StreamMessage[]): Promise<void> {
    const chunks = messages.map((m) => m.data).filter((d) => d.length > 0);
    if (chunks.length === 0) return;
    const file = join(this.scratch, `batch-${++this.files}.ndjson`);
    await writeChunks(file, chunks);
    try {
      const columns = Object.entries(PREDICTION_LINE_COLUMNS)
        .map(([name, type]) => `${name}: '${type}'`)
        .join(', ');
      await this.offline.query(
        `INSERT INTO "${PREDICTIONS_TABLE}" BY NAME SELECT * FROM read_json('${file.replaceAll("'", "''")}', ` +
          `format = 'newline_delimited', columns = {${columns}})`,
      );
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
}

/**
 * Migrates a `predictions` table written before the features were typed: its JSON `features`
 * column becomes `DOUBLE[]` in place (JSON nulls stay NULL elements; a value that is no list of
 * numbers becomes NULL), so ensureTable then finds the schema it wants.
 */
export async function typeFeatures(offline: OfflineStore): Promise<void> {
  const found = await offline.query<{ type: string }>(
    `SELECT data_type AS type FROM information_schema.columns
     WHERE table_schema = 'main' AND table_name = '${PREDICTIONS_TABLE}' AND column_name = 'features'`,
  );
  if (found[0]?.type !== 'JSON') return;
  await offline.query(
    `ALTER TABLE "${PREDICTIONS_TABLE}" ALTER features SET DATA TYPE DOUBLE[] USING TRY_CAST(features AS DOUBLE[])`,
  );
}

/** Writes the chunks in order with gathered writes, never copying them into one buffer first. */
async function writeChunks(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const handle = await open(file, 'w');
  try {
    // writev takes at most IOV_MAX (1024) buffers a call.
    for (let i = 0; i < chunks.length; i += 1024) {
      const part = chunks.slice(i, i + 1024).map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      await handle.writev(part);
    }
  } finally {
    await handle.close();
  }
}

/** DuckDB's errors for input it cannot read as the table's lines (as opposed to a store failure). */
function isBadData(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /Invalid Input|Conversion Error|malformed|JSON/i.test(message);
}
