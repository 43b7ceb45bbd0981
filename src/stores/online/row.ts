/**
 * The stored form of one entity's row, shared by the LMDB and Redis stores: the JSON text
 * `[eventTime, expiresAt, {feature: encoded}]` (values encoded by codec.ts; expiresAt 0 = never),
 * and a cache of decoded rows keyed by that text, so a hot entity is parsed and decoded once per
 * write rather than once per read. A read of the same feature list from an unchanged row hands
 * back the same frozen array of reads, which also lets callers keep per-row work of their own.
 */
import { corruptRow, decodeValue, type EncodedRow, NOT_FOUND } from './codec.js';
import type { FeatureRead } from './port.js';

/** [eventTime, expiresAt (0 = never), encoded values by feature name]. */
export type StoredRow = [number, number, Record<string, unknown>];

/** A row as last read, with what has been decoded of it. */
export interface DecodedRow {
  text: string;
  row: StoredRow;
  reads: Map<string, FeatureRead>;
  /** The feature list of the last read of this row, and its frozen answer (lists excluded). */
  lastFeatures: readonly string[] | undefined;
  lastReads: FeatureRead[] | undefined;
}

/** Parses a stored row; anything that is not `[number, number, {...}]` is DATA_CORRUPT. */
export function parseRow(text: string, view: string, entityKey: string): StoredRow {
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch (err) {
    throw corruptRow(view, entityKey, `not JSON (${(err as Error).message})`);
  }
  const valid =
    Array.isArray(row) &&
    row.length === 3 &&
    typeof row[0] === 'number' &&
    typeof row[1] === 'number' &&
    typeof row[2] === 'object' &&
    row[2] !== null;
  if (!valid) throw corruptRow(view, entityKey, 'not an [eventTime, expiresAt, values] row');
  return row as StoredRow;
}

/** The stored text of an encoded row. */
export function rowText(row: EncodedRow, expiresAt: number): string {
  let text = `[${row.eventTime},${expiresAt},{`;
  const fields = row.fields;
  for (let j = 0; j < fields.length; j++) {
    const [name, encoded] = fields[j]!;
    text += `${j === 0 ? '' : ','}${JSON.stringify(name)}:${JSON.stringify(encoded)}`;
  }
  return `${text}}]`;
}

/** Reads expiresAt from the row text `[eventTime,expiresAt,{...}]` without parsing the values. */
export function isExpired(text: string, now: number): boolean {
  const a = text.indexOf(',');
  const expiresAt = Number(text.slice(a + 1, text.indexOf(',', a + 1)));
  return expiresAt !== 0 && expiresAt <= now;
}

/**
 * One feature of a decoded row, decoded on first use and kept for the next reads; a list is decoded
 * afresh each time, since the caller gets the array itself.
 */
function featureRead(cached: DecodedRow, feature: string): FeatureRead {
  const known = cached.reads.get(feature);
  if (known !== undefined) return known;
  const values = cached.row[2];
  const encoded = Object.hasOwn(values, feature) ? values[feature] : undefined;
  if (typeof encoded !== 'string') return NOT_FOUND;
  const read: FeatureRead = { status: 'PRESENT', value: decodeValue(encoded) };
  // Frozen: the same object goes to every later reader of this row.
  if (!Array.isArray(read.value)) cached.reads.set(feature, Object.freeze(read));
  return read;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The reads of `features` from a decoded row; the same frozen array again for the same list. */
export function featureReads(cached: DecodedRow, features: readonly string[]): FeatureRead[] {
  const last = cached.lastFeatures;
  if (last !== undefined && (last === features || sameNames(last, features))) return cached.lastReads!;
  const m = features.length;
  const reads: FeatureRead[] = new Array(m);
  let shareable = true;
  for (let j = 0; j < m; j++) {
    const read = featureRead(cached, features[j]!);
    reads[j] = read;
    if (Array.isArray(read.value)) shareable = false;
  }
  if (shareable) {
    cached.lastFeatures = features.slice();
    cached.lastReads = Object.freeze(reads) as FeatureRead[];
  }
  return reads;
}

/** Decoded rows by store key, validated against the stored text; starts over when full. */
export class RowCache {
  private readonly rows = new Map<string, DecodedRow>();

  constructor(private readonly limit: number) {}

  /** The parsed row of `text`, from the cache when the stored text is unchanged since the last read. */
  row(key: string, text: string, view: string, entityKey: string): DecodedRow {
    const cached = this.rows.get(key);
    if (cached !== undefined && cached.text === text) return cached;
    const fresh: DecodedRow = {
      text,
      row: parseRow(text, view, entityKey),
      reads: new Map(),
      lastFeatures: undefined,
      lastReads: undefined,
    };
    if (this.rows.size >= this.limit) this.rows.clear();
    this.rows.set(key, fresh);
    return fresh;
  }
}
