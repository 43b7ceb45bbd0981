/**
 * Inference latency per model and version: Prometheus histograms for scraping, and HDR histograms
 * over a recent window for `GET /v1/models/{name}/stats`, whose percentiles are exact to three
 * significant digits (fixed Prometheus buckets only bound a percentile between two bucket edges).
 * Queue time is how long a batch waited for a thread of its version's worker pool (zero for batches
 * evaluated on the serving thread); compute time excludes it. The same window gives each version's
 * error ratio (failed / all requests), computed when scraped and asked for by the monitor's alerts.
 */
import { build, type Histogram as HdrHistogram } from 'hdr-histogram-js';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import { INFERENCE_REQUEST_SECONDS, SERVING_ERROR_RATIO } from '../core/serving-metrics.js';
import type { InferenceObservation, InferenceObserver } from './inference-observation.js';

const BUCKETS = [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** Microseconds: one hour is the longest latency tracked; longer ones count as one hour. */
const HIGHEST_MICROS = 3_600_000_000;

export interface LatencyWindowOptions {
  /** Length of the window the stats cover; default 5 minutes. */
  windowMs?: number;
  /** The window rotates in this many slots (the oldest drops whole); default 5. */
  slots?: number;
  clock?: Clock;
}

/** Stats of one model version over the window. */
export interface VersionStats {
  requests: number;
  errors: number;
  /** Percentiles of successful requests, milliseconds; null when there were none. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** One model version's failed share of its inference requests over the window. */
export interface ErrorRatio {
  model: string;
  version: string;
  requests: number;
  errors: number;
  /** errors / requests, 0..1. */
  ratio: number;
}

export interface ModelStats {
  model: string;
  window: string;
  versions: Record<string, VersionStats>;
}

interface Cell {
  histogram: HdrHistogram;
  requests: number;
  errors: number;
}

interface Slot {
  start: number;
  cells: Map<string, Cell>;
}

/** Records every inference into the Prometheus histograms and the rotating HDR window. */
export class LatencyStats implements InferenceObserver {
  private readonly request: Histogram<'model' | 'version' | 'protocol'>;
  private readonly compute: Histogram<'model' | 'version' | 'protocol'>;
  private readonly queue: Histogram<'model' | 'version' | 'protocol'>;
  private readonly windowMs: number;
  private readonly slotMs: number;
  private readonly clock: Clock;
  private slots: Slot[] = [];

  constructor(registry: Registry, options: LatencyWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.slotMs = this.windowMs / (options.slots ?? 5);
    this.clock = options.clock ?? systemClock;
    this.request = histogram(registry, INFERENCE_REQUEST_SECONDS, 'Inference request time');
    this.compute = histogram(registry, 'meridian_inference_compute_seconds', 'Time inside model predict');
    this.queue = histogram(
      registry,
      'meridian_inference_queue_seconds',
      "Time a batch waited for a thread of its version's worker pool",
    );
    errorRatioGauge(registry, this);
  }

  /** Records one request. */
  observe(o: InferenceObservation): void {
    const labels = { model: o.model, version: String(o.version), protocol: o.protocol };
    this.request.observe(labels, o.requestSeconds);
    if (o.computeSeconds !== undefined) {
      const queued = Math.min(o.prediction?.queueSeconds ?? 0, o.computeSeconds);
      this.queue.observe(labels, queued);
      this.compute.observe(labels, o.computeSeconds - queued);
    }
    const cell = this.cell(o.model, o.version);
    cell.requests += 1;
    if (!o.ok) {
      cell.errors += 1;
      return;
    }
    cell.histogram.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, Math.round(o.requestSeconds * 1e6))));
  }

  /** The model's stats over the window, per version; no versions when it had no requests. */
  stats(model: string): ModelStats {
    const since = this.clock.now() - this.windowMs;
    const merged = new Map<string, Cell>();
    for (const slot of this.slots) {
      if (slot.start + this.slotMs <= since) continue;
      for (const [key, cell] of slot.cells) {
        const [name, version] = splitKey(key);
        if (name !== model) continue;
        const into = merged.get(version) ?? newCell();
        into.histogram.add(cell.histogram);
        into.requests += cell.requests;
        into.errors += cell.errors;
        merged.set(version, into);
      }
    }
    const versions: Record<string, VersionStats> = {};
    for (const [version, cell] of [...merged].sort((a, b) => Number(a[0]) - Number(b[0]))) {
      versions[version] = summarize(cell);
    }
    return { model, window: describeWindow(this.windowMs), versions };
  }

  /**
   * The p95 of every model's successful requests over the last `recentMs` (whole slots; default one
   * slot), milliseconds; null without requests. Lower-priority work (monitoring) backs off on it.
   */
  recentP95Ms(recentMs = this.slotMs): number | null {
    const since = this.clock.now() - recentMs;
    const merged = newCell();
    for (const slot of this.slots) {
      if (slot.start + this.slotMs <= since) continue;
      for (const cell of slot.cells.values()) merged.histogram.add(cell.histogram);
    }
    return summarize(merged).p95Ms;
  }

  /**
   * Failed / all inference requests of every model version over the window (whole slots, so between
   * windowMs minus one slot and windowMs), by model and version; versions without requests are absent.
   */
  recentErrorRatios(): ErrorRatio[] {
    const since = this.clock.now() - this.windowMs;
    const merged = new Map<string, { requests: number; errors: number }>();
    for (const slot of this.slots) {
      if (slot.start + this.slotMs <= since) continue;
      for (const [key, cell] of slot.cells) {
        const into = merged.get(key) ?? { requests: 0, errors: 0 };
        into.requests += cell.requests;
        into.errors += cell.errors;
        merged.set(key, into);
      }
    }
    return [...merged]
      .map(([key, { requests, errors }]) => {
        const [model, version] = splitKey(key);
        return { model, version, requests, errors, ratio: errors / requests };
      })
      .sort((a, b) =>
        a.model < b.model ? -1 : a.model > b.model ? 1 : Number(a.version) - Number(b.version),
      );
  }

  private cell(model: string, version: number): Cell {
    const slot = this.currentSlot();
    const key = `${version}/${model}`;
    let cell = slot.cells.get(key);
    if (!cell) {
      cell = newCell();
      slot.cells.set(key, cell);
    }
    return cell;
  }

  /** The slot for now, dropping slots that left the window. */
  private currentSlot(): Slot {
    const now = this.clock.now();
    const start = now - (now % this.slotMs);
    const last = this.slots.at(-1);
    if (last?.start === start) return last;
    const slot: Slot = { start, cells: new Map() };
    this.slots = [...this.slots.filter((s) => s.start + this.slotMs > now - this.windowMs), slot];
    return slot;
  }
}

function histogram(
  registry: Registry,
  name: string,
  help: string,
): Histogram<'model' | 'version' | 'protocol'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<'model' | 'version' | 'protocol'>;
  return new Histogram({
    name,
    help: `${help} per model, version and protocol, seconds`,
    labelNames: ['model', 'version', 'protocol'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
}

/**
 * The error-ratio gauge, computed from `stats` at each scrape so it rolls with the window even while
 * no request arrives; a registry keeps the gauge of its newest tracker.
 */
function errorRatioGauge(registry: Registry, stats: LatencyStats): void {
  if (registry.getSingleMetric(SERVING_ERROR_RATIO)) registry.removeSingleMetric(SERVING_ERROR_RATIO);
  new Gauge({
    name: SERVING_ERROR_RATIO,
    help: 'Failed / all inference requests per model and version over the recent window',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of stats.recentErrorRatios()) this.set({ model: r.model, version: r.version }, r.ratio);
    },
  });
}

function newCell(): Cell {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
    // Sparse counts: a dense 3-digit histogram up to an hour is ~90 KB per version and slot.
    bitBucketSize: 'packed',
  });
  return { histogram, requests: 0, errors: 0 };
}

/** Keys put the version first: model names may contain "/", versions never do. */
function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(at + 1), key.slice(0, at)];
}

function summarize(cell: Cell): VersionStats {
  const ok = cell.histogram.totalCount > 0;
  const at = (percentile: number) => (ok ? cell.histogram.getValueAtPercentile(percentile) / 1000 : null);
  return { requests: cell.requests, errors: cell.errors, p50Ms: at(50), p95Ms: at(95), p99Ms: at(99) };
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
