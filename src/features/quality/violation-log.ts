/**
 * Ingestion violations, counted in `meridian_ingest_violations_total{source,field,code}` at once and
 * aggregated in memory per (source, field, code, minute) until the next flush, which upserts every
 * pending aggregate in one statement: a flood of bad events costs one upsert per flush period, not
 * one row per event. A flush that fails keeps its aggregates for the next one.
 */

import { Counter, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../../core/clock.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { INGEST_VIOLATIONS_TOTAL } from '../../core/metrics.js';
import type { SqlParam, StateStore } from '../../stores/state/port.js';
import type { Catalog } from '../catalog.js';
import { DebouncedFlush } from './debounced-flush.js';
import type { Violation } from './hooks.js';
import { violationField } from './violation-field.js';

export interface ViolationLogOptions {
  state: StateStore;
  catalog: Pick<Catalog, 'source'>;
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  /** How long aggregates wait before they are written (default 1 s). */
  flushMs?: number;
}

interface Aggregate {
  source: string;
  field: string;
  code: string;
  minute: number;
  count: number;
  sample: string;
  firstSeen: number;
  lastSeen: number;
}

const MINUTE_MS = 60_000;
const SAMPLE_CHARS = 500;
/** Aggregates held while the state store is down; past this, new keys are dropped (the counter still counts). */
const MAX_PENDING = 10_000;
const ROWS_PER_STATEMENT = 1000;

/** The counter of a registry, created once even when several feature stores share the registry. */
function violationCounter(registry: Registry | undefined): Counter<'source' | 'field' | 'code'> | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric(INGEST_VIOLATIONS_TOTAL);
  if (existing) return existing as Counter<'source' | 'field' | 'code'>;
  return new Counter({
    name: INGEST_VIOLATIONS_TOTAL,
    help: 'Events or values rejected at ingestion, by source, field and error code',
    labelNames: ['source', 'field', 'code'],
    registers: [registry],
  });
}

/** Records ingestion violations in the state store and the Prometheus counter. */
export class ViolationLog {
  private readonly pending = new Map<string, Aggregate>();
  private readonly counter: Counter<'source' | 'field' | 'code'> | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flusher: DebouncedFlush;

  constructor(private readonly options: ViolationLogOptions) {
    this.flusher = new DebouncedFlush(
      () => this.write(),
      () => this.pending.size > 0,
      options.flushMs ?? 1000,
    );
    this.counter = violationCounter(options.registry);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Counts the violations of a known source; those of a source the catalog lacks are not recorded. */
  record(source: string, violations: readonly Violation[]): void {
    const def = this.options.catalog.source(source);
    if (!def) return;
    const fields = new Set(Object.keys(def.schema));
    const now = this.clock.now();
    for (const v of violations) {
      const field = violationField(v.field, fields);
      this.counter?.inc({ source, field, code: v.code }, v.count);
      this.add(source, field, v, now);
    }
    this.flusher.schedule();
  }

  /** Writes every pending aggregate now; resolves once they are in the state store (or kept after a failure). */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    await this.flush();
  }

  private add(source: string, field: string, v: Violation, now: number): void {
    // Built field by field: a spread with an overridden key takes V8's slow path (~15 us an event).
    this.merge({
      source,
      field,
      code: v.code,
      minute: Math.floor(now / MINUTE_MS) * MINUTE_MS,
      count: v.count,
      sample: v.sample.slice(0, SAMPLE_CHARS),
      firstSeen: now,
      lastSeen: now,
    });
  }

  private merge(a: Aggregate): void {
    const key = `${a.source}\u0000${a.field}\u0000${a.code}\u0000${a.minute}`;
    const held = this.pending.get(key);
    if (held) {
      held.count += a.count;
      held.firstSeen = Math.min(held.firstSeen, a.firstSeen);
      held.lastSeen = Math.max(held.lastSeen, a.lastSeen);
    } else if (this.pending.size < MAX_PENDING) {
      this.pending.set(key, a);
    }
  }

  private async write(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending.clear();
    try {
      for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
        await upsert(this.options.state, batch.slice(i, i + ROWS_PER_STATEMENT));
      }
    } catch (err) {
      this.logger.warn(
        { err, aggregates: batch.length },
        'recording ingest violations failed; retrying later',
      );
      for (const a of batch) this.merge(a);
      this.flusher.schedule();
    }
  }
}

async function upsert(state: StateStore, rows: readonly Aggregate[]): Promise<void> {
  const params: SqlParam[] = [];
  const values = rows.map((r) => {
    const n = params.length;
    params.push(r.source, r.field, r.code, new Date(r.minute), r.count, r.sample);
    params.push(new Date(r.firstSeen), new Date(r.lastSeen));
    return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8})`;
  });
  await state.query(
    `INSERT INTO feature_ingest_violations AS t
       (source, field, code, minute, count, sample, first_seen, last_seen)
     VALUES ${values.join(', ')}
     ON CONFLICT (source, field, code, minute) DO UPDATE SET
       count = t.count + excluded.count,
       first_seen = LEAST(t.first_seen, excluded.first_seen),
       last_seen = GREATEST(t.last_seen, excluded.last_seen)`,
    params,
  );
}
