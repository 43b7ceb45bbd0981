/**
 * Starts the runs schedules owe. Each sweep reads, per scheduled pipeline, the last tick started
 * (table pipeline_schedules), triggers the due ticks (src/pipelines/schedule.ts: the newest, or
 * every missed one with catchup) with the tick as logical date, then moves the mark forward with a
 * compare-and-set. Several schedulers may sweep at once: the run key makes a tick's second trigger
 * answer the first run, and the mark only moves forward.
 */
import type { Logger } from '../core/logger.js';
import type { Migration, StateStore } from '../stores/state/port.js';
import { dueTicks } from './schedule.js';
import type { Orchestrator, Pipeline } from './types.js';

export const SCHEDULER_MIGRATIONS: readonly Migration[] = [
  {
    version: 450,
    name: 'pipeline schedules: the last tick started per pipeline',
    sql: `CREATE TABLE pipeline_schedules (
      pipeline TEXT PRIMARY KEY,
      last_tick TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
  },
];

export interface SchedulerDeps {
  state: StateStore;
  orchestrator: Orchestrator;
  logger: Logger;
  now?: () => Date;
}

export class Scheduler {
  readonly #deps: SchedulerDeps;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Sweeps every `intervalMs` until close(). */
  start(intervalMs: number): void {
    const loop = () => {
      this.#timer = setTimeout(() => {
        this.sweep()
          .catch((err: unknown) => this.#deps.logger.warn({ err }, 'schedule sweep failed'))
          .finally(() => {
            if (this.#timer) loop();
          });
      }, intervalMs);
    };
    loop();
    this.sweep().catch((err: unknown) => this.#deps.logger.warn({ err }, 'schedule sweep failed'));
  }

  /** Triggers what every scheduled pipeline owes now; answers how many ticks were triggered. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepAll().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  async #sweepAll(): Promise<number> {
    let triggered = 0;
    for (const pipeline of this.#deps.orchestrator.pipelines()) {
      if (!pipeline.schedule) continue;
      try {
        triggered += await this.#sweepOne(pipeline);
      } catch (err) {
        this.#deps.logger.warn({ err, pipeline: pipeline.name }, 'could not start the runs of a schedule');
      }
    }
    return triggered;
  }

  async #sweepOne(pipeline: Pipeline): Promise<number> {
    const { state, orchestrator, logger } = this.#deps;
    const now = (this.#deps.now ?? (() => new Date()))();
    const { rows } = await state.query<{ last_tick: Date }>(
      'SELECT last_tick FROM pipeline_schedules WHERE pipeline = $1',
      [pipeline.name],
    );
    const last = rows[0]?.last_tick ? new Date(rows[0].last_tick) : null;
    const ticks = dueTicks(pipeline.schedule!, last, now);
    for (const tick of ticks) {
      const result = await orchestrator.trigger(pipeline.name, {
        logicalDate: tick,
        trigger: { kind: 'schedule', detail: pipeline.schedule!.cron },
      });
      logger.info(
        {
          pipeline: pipeline.name,
          logicalDate: tick.toISOString(),
          runId: result.runId,
          created: result.created,
        },
        'scheduled run',
      );
    }
    const newest = ticks.at(-1);
    if (newest) {
      await state.query(
        `INSERT INTO pipeline_schedules (pipeline, last_tick) VALUES ($1, $2)
         ON CONFLICT (pipeline) DO UPDATE SET last_tick = EXCLUDED.last_tick, updated_at = now()
         WHERE pipeline_schedules.last_tick < EXCLUDED.last_tick`,
        [pipeline.name, newest],
      );
    }
    return ticks.length;
  }
}
