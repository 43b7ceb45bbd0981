/**
 * Batches a recorder's writes: after `schedule()` the pending state is written once `delayMs` later,
 * one write at a time, so a flood of events costs one state-store statement per interval.
 */
export class DebouncedFlush {
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: () => Promise<void>,
    private readonly hasPending: () => boolean,
    private readonly delayMs: number,
  ) {}

  /** Writes after the delay, unless a write is already scheduled or nothing is pending. */
  schedule(): void {
    if (this.#timer || !this.hasPending()) return;
    this.#timer = setTimeout(() => {
      this.flush().catch(() => undefined);
    }, this.delayMs);
    this.#timer.unref();
  }

  /** Writes what is pending now, after any write under way. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(() => this.write());
    return this.#flushing;
  }
}
