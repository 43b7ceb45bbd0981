/**
 * When each feature view was last written (offline or online), kept in memory for the gauges
 * `meridian_feature_freshness_seconds{feature_view}` and `..._slo_ratio{feature_view}` (computed at
 * scrape time, so the age grows between writes) and persisted to `feature_view_freshness` at most
 * once per flush period per view, so a monitoring-only target can read it from the state store.
 */

import { Gauge, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../../core/clock.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import {
  FEATURE_FRESHNESS_SECONDS,
  FEATURE_FRESHNESS_SLO_RATIO,
  freshnessObjectiveSeconds,
} from '../../core/metrics.js';
import type { SqlParam, StateStore } from '../../stores/state/port.js';
import type { Catalog } from '../catalog.js';
import { DebouncedFlush } from './debounced-flush.js';

export interface FreshnessOptions {
  state: StateStore;
  catalog: Pick<Catalog, 'view'>;
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  /** Shortest time between two writes of a view's row (default 1 s). */
  flushMs?: number;
}

/** Tracks views' last writes and exports their freshness. */
export class FreshnessTracker {
  private readonly last = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly clock: Clock;
  private readonly flusher: DebouncedFlush;

  private constructor(private readonly options: FreshnessOptions) {
    this.flusher = new DebouncedFlush(
      () => this.write(),
      () => this.dirty.size > 0,
      options.flushMs ?? 1000,
    );
    this.clock = options.clock ?? systemClock;
    if (options.registry) this.exportGauges(options.registry);
  }

  /** Opens the tracker with the last writes already stored, so a restart does not reset the ages. */
  static async open(options: FreshnessOptions): Promise<FreshnessTracker> {
    const tracker = new FreshnessTracker(options);
    const stored = await options.state.query<{ view: string; last_write_at: Date }>(
      'SELECT view, last_write_at FROM feature_view_freshness',
    );
    for (const row of stored.rows) tracker.last.set(row.view, new Date(row.last_write_at).getTime());
    return tracker;
  }

  /** Records that the views were written now. */
  written(views: readonly string[]): void {
    const now = this.clock.now();
    for (const view of views) {
      if ((this.last.get(view) ?? Number.NEGATIVE_INFINITY) < now) this.last.set(view, now);
      this.dirty.add(view);
    }
    this.flusher.schedule();
  }

  /** Seconds since the view was last written; undefined when no write is known. */
  ageSeconds(view: string): number | undefined {
    const last = this.last.get(view);
    return last === undefined ? undefined : Math.max(0, this.clock.now() - last) / 1000;
  }

  /** Writes the pending last-write times now. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    await this.flush();
  }

  private async write(): Promise<void> {
    const views = [...this.dirty];
    this.dirty.clear();
    if (views.length === 0) return;
    const params: SqlParam[] = [];
    const values = views.map((view, i) => {
      params.push(view, new Date(this.last.get(view)!));
      return `($${2 * i + 1}, $${2 * i + 2})`;
    });
    try {
      await this.options.state.query(
        `INSERT INTO feature_view_freshness AS t (view, last_write_at) VALUES ${values.join(', ')}
         ON CONFLICT (view) DO UPDATE SET last_write_at = GREATEST(t.last_write_at, excluded.last_write_at),
           updated_at = now()`,
        params,
      );
    } catch (err) {
      (this.options.logger ?? silentLogger).warn({ err, views }, 'recording view freshness failed; retrying');
      for (const view of views) this.dirty.add(view);
      this.flusher.schedule();
    }
  }

  /** Age and objective ratio of every applied view with a known write, for the gauges. */
  private snapshot(): { view: string; age: number; ratio: number }[] {
    const out: { view: string; age: number; ratio: number }[] = [];
    for (const view of this.last.keys()) {
      const def = this.options.catalog.view(view);
      const age = this.ageSeconds(view);
      if (def && age !== undefined)
        out.push({ view, age, ratio: age / freshnessObjectiveSeconds(def.ttlMs) });
    }
    return out;
  }

  /** Registers the two gauges, read at scrape time; views no longer applied are left out. */
  private exportGauges(registry: Registry): void {
    const tracker = this;
    const labelNames = ['feature_view'] as const;
    // A store reopened on the same registry replaces the gauges of the one it succeeds.
    registry.removeSingleMetric(FEATURE_FRESHNESS_SECONDS);
    registry.removeSingleMetric(FEATURE_FRESHNESS_SLO_RATIO);
    new Gauge({
      name: FEATURE_FRESHNESS_SECONDS,
      help: 'Seconds since a feature view was last written, offline or online',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of tracker.snapshot()) this.set({ feature_view: s.view }, s.age);
      },
    });
    new Gauge({
      name: FEATURE_FRESHNESS_SLO_RATIO,
      help: "Age of a feature view's newest write divided by its freshness objective (its ttl, else a day)",
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of tracker.snapshot()) this.set({ feature_view: s.view }, s.ratio);
      },
    });
  }
}
