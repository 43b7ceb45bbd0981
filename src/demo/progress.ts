/**
 * Live progress of the demo on stderr: one line rewritten in place on a terminal, a new line every
 * few seconds otherwise (logs and CI keep a readable history).
 */
import type { Tally } from './tally.js';

export interface ProgressOptions {
  tally: Tally;
  /** Counts online entities; a failed count keeps the last one shown. */
  onlineEntities: () => Promise<number>;
  stream?: NodeJS.WriteStream;
  /** Default: 1 s on a terminal, 5 s otherwise. */
  intervalMs?: number;
}

/** Reports progress until stopped; `stop()` ends the updating line with a newline. */
export class ProgressReporter {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private lastAt = performance.now();
  private online = 0;
  private ticking = false;
  private printed = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
  }

  /** Starts the periodic line. */
  start(): void {
    const interval = this.options.intervalMs ?? (this.tty ? 1000 : 5000);
    this.timer = setInterval(() => void this.tick(), interval);
  }

  /** Stops reporting. */
  stop(): void {
    clearInterval(this.timer);
    if (this.tty && this.printed) this.stream.write('\n');
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.online = await this.options.onlineEntities().catch(() => this.online);
      this.stream.write(this.tty ? `\r\x1b[K${this.line()}` : `${this.line()}\n`);
      this.printed = true;
    } finally {
      this.ticking = false;
    }
  }

  private line(): string {
    const total = this.options.tally.total();
    const now = performance.now();
    const rate = ((total.sent - this.lastSent) * 1000) / Math.max(1, now - this.lastAt);
    this.lastSent = total.sent;
    this.lastAt = now;
    const elapsed = ((now - this.started) / 1000).toFixed(0);
    return (
      `demo ${elapsed}s: ${Math.round(rate)} events/s, ${total.accepted} rows durable, ` +
      `${this.online} online entities, ${total.duplicates} duplicates dropped, ${total.rejected} rejected`
    );
  }
}
