/**
 * Created timestamps for a whole file at once: a contiguous range of microseconds from the shared
 * created clock, so file rows sort after everything ingested before and before everything after,
 * exactly as if each row had been pushed in file order.
 */
import { nextCreatedMicros } from '../created-clock.js';

/** Reserves `count` created timestamps; answers the first, the rest follow at 1 µs steps. */
export function reserveCreatedMicros(count: number): bigint {
  const first = nextCreatedMicros();
  const last = first + BigInt(Math.max(count, 1) - 1);
  // The clock moves at least 1 µs per call, so this ends within `count` calls (at once when idle).
  let next = first;
  while (next < last) next = nextCreatedMicros();
  return first;
}
