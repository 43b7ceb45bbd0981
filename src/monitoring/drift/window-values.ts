/**
 * The raw values a window's KS or Wasserstein comparison needs, sorted ascending: the window's
 * from its wide table, the baseline's from its sample file, column-wise (`queryColumns`, straight
 * from DuckDB's vectors into Float64Arrays). The window's columns are read ten per query (measured
 * on 2 shared cores: less CPU than one query for all 50 or one per column) and radix-sorted in JS
 * (../stats/sort.ts) while DuckDB already reads the next ten. The sample is stored sorted by
 * (column, value), so in file order it is each column's sorted run: one read, no sort.
 */
import type { OfflineStore } from '../../stores/offline/port.js';
import { sqlIdent, sqlString } from '../baseline/reference.js';
import { isAscending, sortedFinite } from '../stats/sort.js';
import type { ExtractedWindow } from './window-extract.js';

/** Milliseconds spent waiting on DuckDB, sorting, and in the caller's use of each column, added to. */
export interface ValueTimes {
  read: number;
  sort: number;
  use: number;
}

/** Columns read per query: fewer queries than one a column, smaller results than one for all. */
const GROUP = 10;

/**
 * Hands each listed column's non-null, finite window values, sorted, to `use`, in order; a column's
 * array is not kept, so at most two groups of columns are in memory.
 */
export async function windowValues(
  offline: OfflineStore,
  window: ExtractedWindow,
  names: readonly string[],
  times: ValueTimes,
  use: (name: string, sorted: Float64Array) => void,
): Promise<void> {
  const groups: string[][] = [];
  for (let g = 0; g < names.length; g += GROUP) groups.push(names.slice(g, g + GROUP));
  const read = (group: readonly string[]) => {
    const columns = group.map((name, k) => `${window.columns.get(name) ?? 'NULL'}::DOUBLE AS v${k}`);
    return offline.queryColumns(`SELECT ${columns.join(', ')} FROM ${sqlIdent(window.wide)}`);
  };
  let next = groups.length > 0 ? read(groups[0]!) : undefined;
  for (let g = 0; g < groups.length; g++) {
    let t = performance.now();
    const values = await next!;
    times.read += performance.now() - t;
    if (g + 1 < groups.length) next = read(groups[g + 1]!);
    for (const [k, name] of groups[g]!.entries()) {
      t = performance.now();
      const sorted = sortedFinite(values[`v${k}`] as Float64Array);
      const sortedAt = performance.now();
      use(name, sorted);
      times.sort += sortedAt - t;
      times.use += performance.now() - sortedAt;
    }
  }
}

/** Byte order of UTF-8 text, as DuckDB orders VARCHAR by default. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Each listed column's values in the baseline's sample (Parquet, columns `column` and `value`,
 * written sorted by both, `counts` values per column), sorted. The file is read once in file order
 * and cut into each column's run; when the file does not hold the counted values, or a run is not
 * ascending, each column is read by its own query and sorted here.
 */
export async function sampleValues(
  offline: OfflineStore,
  path: string,
  names: readonly string[],
  counts: Readonly<Record<string, number>>,
): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>();
  if (names.length === 0) return out;
  const file = `read_parquet(${sqlString(path)})`;
  const all = (await offline.queryColumns(`SELECT value::DOUBLE AS v FROM ${file}`)).v as Float64Array;
  let at = 0;
  const runs = new Map<string, Float64Array>();
  for (const name of Object.keys(counts).sort(byBytes)) {
    runs.set(name, all.subarray(at, at + counts[name]!));
    at += counts[name]!;
  }
  const whole = at === all.length && names.every((n) => runs.has(n) && isAscending(runs.get(n)!));
  for (const name of names) out.set(name, whole ? runs.get(name)! : await columnValues(offline, file, name));
  return out;
}

/** One column's values of the sample, sorted here. */
async function columnValues(offline: OfflineStore, file: string, name: string): Promise<Float64Array> {
  const read = await offline.queryColumns(`SELECT value::DOUBLE AS v FROM ${file} WHERE "column" = ?`, [
    name,
  ]);
  return sortedFinite(read.v as Float64Array);
}
