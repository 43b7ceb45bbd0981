/**
 * The feature store's stream ingestion: a durable consumer of `events.<source>` (on NATS the
 * subjects `meridian.events.<source>.*`) for every stream source in the catalog, feeding the same
 * `Ingestor.push` as the REST and gRPC paths, so validation, deduplication by event id, batching
 * and the dual write are the same. See source-consumer.ts for ordering, acks and failures.
 */
import { invalidArgument } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import type { EventStream } from '../../stores/stream/port.js';
import type { Catalog } from '../catalog.js';
import type { IngestQuality } from '../quality/hooks.js';
import type { Ingestor } from './push.js';
import { SourceConsumer, type SourceConsumerSettings } from './source-consumer.js';

export interface EventConsumerOptions {
  /** Messages per source handed out and not yet acked (default 1000): the more, the larger the batches. */
  maxInFlight?: number;
  /** An unacked message is redelivered after this long (default 30 s). */
  ackWaitMs?: number;
  /** Deliveries before a message that keeps failing goes to the dead-letter topic (default 1000). */
  maxDeliver?: number;
  /** First retry delay after a passing failure, doubled per delivery (default 200 ms)... */
  retryBaseMs?: number;
  /** ...up to this (default 30 s): with the defaults, an outage of about 8 hours loses nothing. */
  retryMaxMs?: number;
  /** Most events one merged push of a key carries (default 1000). */
  maxGroupEvents?: number;
  /** How long close waits for pushes in flight (default 10 s). */
  drainTimeoutMs?: number;
  /** Also refresh every this many ms (default 0: only when `refresh()` is called). */
  pollMs?: number;
  /**
   * Names of all applied sources; the stream ones get a consumer. Default: the sources the
   * catalog's views read (the Catalog interface cannot list sources without a view).
   */
  sourceNames?: () => Iterable<string>;
}

export interface EventConsumersDeps {
  stream: EventStream;
  catalog: Catalog;
  ingestor: Ingestor;
  logger?: Logger;
  options?: EventConsumerOptions;
  /** Records each dead-lettered message as an ingestion violation. */
  quality?: IngestQuality;
}

export interface EventConsumers {
  /** Starts consumers of stream sources applied since, restarts failed ones, stops those of removed sources. */
  refresh(): Promise<void>;
  /** Sources being consumed now. */
  sources(): string[];
  /** Stops every consumer, waiting for pushes in flight to be acked (up to `drainTimeoutMs`). */
  close(): Promise<void>;
}

function intOption(value: number | undefined, fallback: number, field: string, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw invalidArgument(`options.${field}`, `${String(value)} is not an integer of at least ${min}`);
  }
  return value;
}

function settingsOf(options: EventConsumerOptions): SourceConsumerSettings {
  return {
    maxInFlight: intOption(options.maxInFlight, 1000, 'maxInFlight', 1),
    ackWaitMs: intOption(options.ackWaitMs, 30_000, 'ackWaitMs', 100),
    maxDeliver: intOption(options.maxDeliver, 1000, 'maxDeliver', 1),
    retry: {
      baseMs: intOption(options.retryBaseMs, 200, 'retryBaseMs'),
      maxMs: intOption(options.retryMaxMs, 30_000, 'retryMaxMs'),
    },
    maxGroupEvents: intOption(options.maxGroupEvents, 1000, 'maxGroupEvents', 1),
    drainTimeoutMs: intOption(options.drainTimeoutMs, 10_000, 'drainTimeoutMs'),
  };
}

class EventConsumerSet implements EventConsumers {
  private readonly running = new Map<string, SourceConsumer>();
  private readonly settings: SourceConsumerSettings;
  private readonly logger: Logger;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: EventConsumersDeps) {
    this.settings = settingsOf(deps.options ?? {});
    this.logger = (deps.logger ?? silentLogger).child({ component: 'event-consumer' });
  }

  /** Polls the catalog when asked to; a failed poll is logged and tried again at the next tick. */
  startPolling(): void {
    const every = this.deps.options?.pollMs ?? 0;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err) => this.logger.warn({ err }, 'refreshing stream consumers failed'));
    }, every);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    // One refresh at a time, so two calls never start the same source twice.
    const next = this.queue.then(() => this.reconcile());
    this.queue = next.catch(() => {});
    return next;
  }

  sources(): string[] {
    return [...this.running.keys()].sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.queue;
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private wanted(): Set<string> {
    const { catalog, options } = this.deps;
    const names = options?.sourceNames?.() ?? catalog.views().flatMap((v) => (v.source ? [v.source] : []));
    return new Set([...names].filter((name) => catalog.source(name)?.kind === 'stream'));
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const wanted = this.wanted();
    for (const [source, consumer] of this.running) {
      if (wanted.has(source) && !consumer.isStopped) continue;
      this.running.delete(source);
      await consumer.close();
      this.logger.info({ source }, 'stopped consuming stream source');
    }
    for (const source of wanted) {
      if (this.running.has(source)) continue;
      const { stream, ingestor, quality } = this.deps;
      this.running.set(
        source,
        await SourceConsumer.start(stream, source, ingestor, this.settings, this.logger, quality),
      );
      this.logger.info({ source }, 'consuming stream source');
    }
  }
}

/**
 * Starts a durable consumer for every stream source in the catalog; fails with the stream's error
 * (STORE_UNAVAILABLE) when a consumer cannot be created. Call `refresh()` after each apply.
 */
export async function startEventConsumers(deps: EventConsumersDeps): Promise<EventConsumers> {
  const consumers = new EventConsumerSet(deps);
  try {
    await consumers.refresh();
  } catch (err) {
    await consumers.close();
    throw err;
  }
  consumers.startPolling();
  return consumers;
}
