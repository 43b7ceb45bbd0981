/**
 * Category counts of two samples aligned over the union of their categories, the common input of
 * chi-square, the z-test, PSI and Jensen–Shannon on categorical data. The union is sorted, so the
 * order (and the z-test's reference category) never depends on which sample was read first.
 */

/** Occurrences per category key. */
export type Counts = ReadonlyMap<string, number>;

/** Two samples' counts over the same sorted categories, zeros where a sample lacks one. */
export interface AlignedCounts {
  categories: string[];
  reference: number[];
  current: number[];
  referenceTotal: number;
  currentTotal: number;
}

/** Counts of each key in the values. */
export function countValues(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Aligns two samples' counts over the union of their categories, sorted (as strings unless told). */
export function alignCounts(
  reference: Counts,
  current: Counts,
  order?: (a: string, b: string) => number,
): AlignedCounts {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort(order);
  const ref = categories.map((c) => reference.get(c) ?? 0);
  const cur = categories.map((c) => current.get(c) ?? 0);
  return {
    categories,
    reference: ref,
    current: cur,
    referenceTotal: sum(ref),
    currentTotal: sum(cur),
  };
}

/** Shares of a total (each count / the sum). */
export function shares(counts: readonly number[]): number[] {
  const total = sum(counts);
  return counts.map((c) => c / total);
}

/** The plain sum. */
export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
