/**
 * How a numeric column becomes shares for PSI and Jensen–Shannon. A reference with at most
 * {@link MAX_DISCRETE_VALUES} distinct values is treated as categories (each value its own bin, over
 * the union of both samples' values, as Evidently does). Otherwise the bins are the reference's
 * deciles: inner edges `numpy.quantile(reference, [0.1, ..., 0.9])` (linear interpolation),
 * duplicates dropped, and the outer bins open to -inf and +inf so every current value lands in a
 * bin; a value equal to an edge goes to the bin on its right (`numpy.searchsorted(edges, x,
 * 'right')`). Reference edges, not edges of both samples, so a stored baseline profile can be
 * compared with any later window.
 */

/** Reference distinct values up to which a numeric column is compared value by value. */
export const MAX_DISCRETE_VALUES = 20;
/** Quantile bins of a numeric column with more distinct values. */
export const QUANTILE_BINS = 10;

/** Both samples' counts over the same bins. */
export interface BinnedCounts {
  reference: number[];
  current: number[];
}

/** The q-quantile of sorted values, exactly as numpy.quantile's default (linear) method. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const virtual = (sorted.length - 1) * q;
  const lo = Math.floor(virtual);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const t = virtual - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  // numpy interpolates from the nearer end, which decides the last bit of the edge.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The inner bin edges: the reference's deciles without duplicates. */
export function quantileEdges(sortedReference: Float64Array, bins = QUANTILE_BINS): number[] {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const edge = quantileSorted(sortedReference, i / bins);
    if (edges.length === 0 || edge !== edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** Counts per bin, bin i holding edges[i-1] <= x < edges[i] (outer bins open). */
export function binCounts(values: Float64Array, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of values) {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts;
}

/** Both numeric samples' counts over the bins the rule above picks. */
export function numericBins(reference: Float64Array, current: Float64Array): BinnedCounts {
  const sorted = Float64Array.from(reference).sort();
  if (distinctSorted(sorted) <= MAX_DISCRETE_VALUES) return valueBins(reference, current);
  const edges = quantileEdges(sorted);
  return { reference: binCounts(reference, edges), current: binCounts(current, edges) };
}

function distinctSorted(sorted: Float64Array): number {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

function valueBins(reference: Float64Array, current: Float64Array): BinnedCounts {
  const values = [...new Set([...reference, ...current])].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const count = (sample: Float64Array) => {
    const counts = new Array<number>(values.length).fill(0);
    for (const x of sample) counts[index.get(x)!]! += 1;
    return counts;
  };
  return { reference: count(reference), current: count(current) };
}
