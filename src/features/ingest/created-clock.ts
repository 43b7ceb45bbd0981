/**
 * The `created_timestamp` clock: microseconds, strictly increasing within the process, so a
 * correction ingested after the row it corrects always sorts after it, even inside one batch or
 * when the wall clock steps back.
 */

let last = 0n;

/** Wall-clock microseconds since the epoch, at the resolution `performance.now()` gives. */
function wallMicros(): bigint {
  return BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
}

/** The next created timestamp in epoch microseconds: `max(now, last + 1µs)`. */
export function nextCreatedMicros(): bigint {
  const now = wallMicros();
  last = now > last ? now : last + 1n;
  return last;
}

/** Microseconds as the fractional epoch milliseconds the offline store takes (exact below 2^53 µs). */
export const microsToMs = (micros: bigint): number => Number(micros) / 1000;
