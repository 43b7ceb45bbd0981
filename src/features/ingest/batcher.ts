/**
 * Merges concurrent pushes into batches: a batch is flushed when it reaches `maxBatch` items or
 * `maxDelayMs` after its first item arrived, whichever comes first. Flushes run one at a time, in
 * arrival order, so the items of one key are always written in the order they were pushed. Each
 * caller's promise settles with its own slice of the batch's results, or with the batch's error.
 *
 * A flush may hand off: resolve with `{ finish }` once its first stage is done, so the next batch's
 * flush starts while this one's `finish` runs. Finishes run one at a time, in batch order, each after
 * the previous one settled, and at most two batches are in flight; callers settle with `finish`.
 */
import { MeridianError } from '../../core/errors.js';

export interface BatcherOptions {
  /** Flush as soon as this many items wait. */
  maxBatch: number;
  /** Flush at the latest this long after the first waiting item arrived. */
  maxDelayMs: number;
  /** Items waiting or being written; a push beyond this is refused with RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** What the queue holds, for messages (e.g. `source "activity"`). */
  label: string;
}

/** What a two-stage flush gives back when its first stage is done: the last stage, to run in order. */
export interface Handoff<R> {
  finish(): Promise<R[]>;
}

interface Entry<T, R> {
  items: T[];
  resolve(results: R[]): void;
  reject(err: unknown): void;
}

export class Batcher<T, R> {
  private pending: Entry<T, R>[] = [];
  private pendingItems = 0;
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  /** The last batch's settlement (its finish, if handed off); never rejects. */
  private handedOff: Promise<void> = Promise.resolve();

  constructor(
    private readonly flush: (items: T[]) => Promise<R[] | Handoff<R>>,
    private readonly options: BatcherOptions,
  ) {}

  /** Queues items; resolves with one result per item once their batch is written. */
  add(items: T[]): Promise<R[]> {
    const { maxQueued, label } = this.options;
    if (this.queued + items.length > maxQueued) {
      throw new MeridianError(
        'RESOURCE_EXHAUSTED',
        `the ingestion queue of ${label} is full (${this.queued} events waiting, limit ${maxQueued}); retry after a short backoff${items.length > maxQueued ? `, and send at most ${maxQueued} events per push` : ''}`,
        { queued: this.queued, limit: maxQueued, hint: 'retry with exponential backoff' },
      );
    }
    return new Promise<R[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.pendingItems += items.length;
      this.queued += items.length;
      if (this.pendingItems >= this.options.maxBatch) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.options.maxDelayMs);
    });
  }

  /** Writes everything queued now, without waiting for the timer; resolves when all is written. */
  async drain(): Promise<void> {
    this.start();
    while (this.loop) await this.loop;
    await this.handedOff;
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.loop || this.pending.length === 0) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
      // Pushes that arrived between the last take and now have no timer of their own.
      if (this.pending.length > 0) this.start();
    });
  }

  private async run(): Promise<void> {
    while (this.pending.length > 0) {
      const entries = this.take();
      const items = entries.flatMap((entry) => entry.items);
      const previous = this.handedOff;
      let results: Promise<R[]>;
      try {
        const out = await this.flush(items);
        results = previous.then(() => (Array.isArray(out) ? out : out.finish()));
      } catch (err) {
        results = Promise.reject(err);
      }
      this.handedOff = this.settle(entries, items.length, results);
      // The previous batch must be done before a third one starts: at most two are in flight.
      await previous;
    }
  }

  private settle(entries: Entry<T, R>[], count: number, results: Promise<R[]>): Promise<void> {
    return results.then(
      (all) => {
        let offset = 0;
        for (const entry of entries) {
          entry.resolve(all.slice(offset, offset + entry.items.length));
          offset += entry.items.length;
        }
        this.queued -= count;
      },
      (err: unknown) => {
        for (const entry of entries) entry.reject(err);
        this.queued -= count;
      },
    );
  }

  /** Whole pushes up to `maxBatch` items (at least one push, however large): a push is never split. */
  private take(): Entry<T, R>[] {
    let count = 0;
    let n = 0;
    while (n < this.pending.length) {
      const size = this.pending[n]!.items.length;
      if (n > 0 && count + size > this.options.maxBatch) break;
      count += size;
      n++;
    }
    this.pendingItems -= count;
    return this.pending.splice(0, n);
  }
}
