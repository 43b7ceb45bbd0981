import { randomBytes, randomUUID } from 'node:crypto';

/** A random UUID v4: for request ids and anything that needs no order. */
export const newUuid = (): string => randomUUID();

/**
 * A UUID v7: time-ordered, so ids created later sort later (run ids, event ids, job ids),
 * which keeps B-tree inserts cheap and logs readable.
 */
export function newId(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  let ts = BigInt(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ts & 0xffn);
    ts >>= 8n;
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
