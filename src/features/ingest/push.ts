/**
 * The streaming push ingestor: validates a push against its source, merges concurrent pushes into
 * one batch per source, and acknowledges each push once its events are durable in the offline store
 * and applied to the online store (see dual-write.ts for the order and what a crash leaves behind).
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { MeridianError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import type { SourceDef } from '../definitions.js';
import { violationOf } from '../quality/hooks.js';
import { Batcher, type Handoff } from './batcher.js';
import { type DualWriteStores, TableCache, unknownSource, writeBatch } from './dual-write.js';
import { checkJoinKeys, DEFAULT_MAX_FUTURE_MS, type ParsedEvent, parseEvents } from './events.js';
import { withSourceLock } from './source-lock.js';

export interface IngestorOptions extends DualWriteStores {
  logger?: Logger;
  /** Wall clock for the future-timestamp check. */
  clock?: Clock;
  /** Flush a source's batch at this many events (default 5000). */
  maxBatchEvents?: number;
  /** ...or this long after its first event arrived (default 20 ms). */
  maxDelayMs?: number;
  /** Events waiting or being written per source before pushes get RESOURCE_EXHAUSTED (default 100,000). */
  maxQueuedEvents?: number;
  /** How far past now an event timestamp may be (default one day). */
  maxFutureMs?: number;
}

/** What a push answers: events newly stored, and events dropped because their id was already stored. */
export interface PushResult {
  accepted: number;
  duplicates: number;
}

export interface PushOptions {
  /**
   * Record a rejected push as an ingestion violation (default true). The stream consumer passes
   * false: it retries a failed merged push message by message and records only what it dead-letters.
   */
  recordViolations?: boolean;
}

export interface Ingestor {
  /** Validates and writes a push of events to a source; resolves once they are durable in both stores. */
  push(source: string, events: unknown, options?: PushOptions): Promise<PushResult>;
  /** Writes what is queued, then refuses further pushes. */
  close(): Promise<void>;
}

/** Creates the push ingestor over the offline and online stores and the catalog. */
export function createIngestor(options: IngestorOptions): Ingestor {
  return new PushIngestor(options);
}

class PushIngestor implements Ingestor {
  private readonly batchers = new Map<string, Batcher<ParsedEvent, boolean>>();
  private readonly tables = new TableCache();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: IngestorOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  async push(sourceName: string, events: unknown, options: PushOptions = {}): Promise<PushResult> {
    if (this.closed) {
      throw new MeridianError('UNAVAILABLE', 'the ingestor is shutting down; push again to another instance');
    }
    const source = this.options.catalog.source(sourceName);
    if (!source) throw unknownSource(sourceName);
    let parsed: ParsedEvent[];
    try {
      parsed = this.validate(source, events);
    } catch (err) {
      const violation = options.recordViolations === false ? undefined : violationOf(err);
      if (violation) this.options.quality?.rejected(sourceName, [violation]);
      throw err;
    }
    if (parsed.length === 0) return { accepted: 0, duplicates: 0 };
    const isNew = await this.batcherOf(sourceName).add(parsed);
    const accepted = isNew.filter(Boolean).length;
    return { accepted, duplicates: isNew.length - accepted };
  }

  /** The events checked against the source and its views' join keys; throws on the first bad one. */
  private validate(source: SourceDef, events: unknown): ParsedEvent[] {
    const parsed = parseEvents(source, events, {
      now: this.clock.now(),
      maxFutureMs: this.options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    });
    const views = this.options.catalog.viewsOfSource(source.name);
    checkJoinKeys(parsed, [...new Set(views.flatMap((view) => view.keys.map((key) => key.name)))]);
    return parsed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.batchers.values()].map((batcher) => batcher.drain()));
  }

  private batcherOf(sourceName: string): Batcher<ParsedEvent, boolean> {
    let batcher = this.batchers.get(sourceName);
    if (!batcher) {
      batcher = new Batcher((events) => this.flush(sourceName, events), {
        maxBatch: this.options.maxBatchEvents ?? 5000,
        maxDelayMs: this.options.maxDelayMs ?? 20,
        maxQueued: this.options.maxQueuedEvents ?? 100_000,
        label: `source "${sourceName}"`,
      });
      this.batchers.set(sourceName, batcher);
    }
    return batcher;
  }

  private async flush(sourceName: string, events: ParsedEvent[]): Promise<Handoff<boolean>> {
    // The definition at flush time: a source removed while its events waited fails their pushes.
    const source = this.options.catalog.source(sourceName);
    if (!source) throw unknownSource(sourceName);
    const started = performance.now();
    const failed = (err: unknown): never => {
      this.logger.warn({ err, source: sourceName, events: events.length }, 'ingest batch failed');
      throw err;
    };
    const handoff = await withSourceLock(this.options.offline, sourceName, () =>
      writeBatch(this.options, this.tables, source, events),
    ).catch(failed);
    return {
      finish: () =>
        handoff.finish().then((isNew) => {
          this.logger.debug(
            { source: sourceName, events: events.length, ms: performance.now() - started },
            'ingested batch',
          );
          return isNew;
        }, failed),
    };
  }
}
