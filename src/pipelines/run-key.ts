/**
 * A run's idempotency key: a hash of the pipeline, its parameters (defaults applied) and its
 * logical date. Parameters are hashed as canonical JSON (keys sorted at every depth), so the
 * order in which a caller wrote them does not make a second run.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The key of a run of `pipeline` with resolved `params` for `logicalDate`: sha256, hex. */
export function runKey(pipeline: string, params: Record<string, unknown>, logicalDate: Date): string {
  const text = `${pipeline}\n${canonicalJson(params)}\n${logicalDate.toISOString()}`;
  return createHash('sha256').update(text).digest('hex');
}
