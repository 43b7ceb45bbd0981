/**
 * The memory ceiling of a pipeline worker (`resources.memoryCeiling`): while the memory in use is
 * above it, the worker takes no new step, so the steps stay queued for workers with room; steps
 * already running go on. The gate reads memory every `checkMs` and tells the worker when the
 * answer changes, logging each change and setting the paused gauge.
 */
import { freemem, totalmem } from 'node:os';
import type { Logger } from '../core/logger.js';
import type { PipelineMetrics } from './metrics.js';

/**
 * The share of memory in use (0-1): the system's, or this process's share of its cgroup limit
 * when it has one and that share is higher.
 */
export function memoryInUse(): number {
  const total = totalmem();
  const system = 1 - freemem() / total;
  const limit = process.constrainedMemory?.() ?? 0;
  const own = limit > 0 && limit < total ? process.memoryUsage.rss() / limit : 0;
  return Math.max(system, own);
}

export interface MemoryGateOptions {
  /** Share of memory (0-1] above which no new step starts. */
  ceiling: number;
  /** The share in use now; default memoryInUse. */
  read?: () => number;
  /** How often memory is read. */
  checkMs: number;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** Called (one call at a time) with true when memory went above the ceiling, false when back under. */
  onChange: (paused: boolean) => Promise<void>;
}

export class MemoryGate {
  readonly #o: MemoryGateOptions;
  readonly #read: () => number;
  #paused = false;
  #timer: NodeJS.Timeout | undefined;
  #changing: Promise<void> = Promise.resolve();

  constructor(options: MemoryGateOptions) {
    this.#o = options;
    this.#read = options.read ?? memoryInUse;
  }

  /** Whether memory was above the ceiling at the last reading. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Reads memory now (the first reading decides whether the worker starts pulling) and then every checkMs. */
  start(): boolean {
    this.check();
    this.#timer ??= setInterval(() => this.check(), this.#o.checkMs);
    this.#timer.unref();
    return this.#paused;
  }

  /** Stops reading and waits for a change under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#changing;
  }

  /** One reading; a change is logged, gauged and handed to onChange after the changes before it. */
  check(): void {
    const share = this.#read();
    const paused = share > this.#o.ceiling;
    this.#o.metrics?.memory(share, paused);
    if (paused === this.#paused) return;
    this.#paused = paused;
    const fields = { memoryInUse: Number(share.toFixed(3)), ceiling: this.#o.ceiling };
    if (paused) this.#o.logger.warn(fields, 'memory above the ceiling: taking no new steps until it falls');
    else this.#o.logger.info(fields, 'memory below the ceiling again: taking steps');
    this.#changing = this.#changing
      .then(() => this.#o.onChange(paused))
      .catch((err: unknown) => this.#o.logger.warn({ err }, 'worker did not follow the memory ceiling'));
  }
}
