/**
 * SQL text helpers for file loading: identifiers and literals built in TypeScript, and expressions
 * that print values exactly as JavaScript's `JSON.stringify` does, so ids hashed in DuckDB match
 * the ids `eventId` computes for pushed events.
 */

/** A double-quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A single-quoted SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * A DOUBLE printed as `JSON.stringify` prints a number. DuckDB's `to_json` already gives the
 * shortest round-trip digits and the same switch to exponent form; it differs only in writing
 * integral values with `.0`, exponents without `+`, and negative zero.
 */
export function jsNumber(expr: string): string {
  const text = `regexp_replace(regexp_replace(CAST(to_json(${expr}) AS VARCHAR), '\\.0$', ''), 'e(\\d)', 'e+\\1')`;
  return `(CASE WHEN ${expr} = 0 THEN '0' ELSE ${text} END)`;
}

/** The escapes `JSON.stringify` uses for control characters, backslash and quote. */
function jsonEscapes(): [string, string][] {
  const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
  const escapes: [string, string][] = [
    ['chr(92)', literal('\\\\')],
    ['chr(34)', literal('\\"')],
  ];
  for (let code = 0; code < 32; code++) {
    const escaped = named[code] ?? `\\u${code.toString(16).padStart(4, '0')}`;
    escapes.push([`chr(${code})`, literal(escaped)]);
  }
  return escapes;
}

/** A VARCHAR printed as `JSON.stringify` prints a string (lower-case `\u00xx`, nothing else escaped). */
export function jsString(expr: string): string {
  let out = expr;
  for (const [from, to] of jsonEscapes()) out = `replace(${out}, ${from}, ${to})`;
  // Most text needs no escape: skip the 34 replaces for it.
  const plain = `NOT regexp_matches(${expr}, '[\\x00-\\x1f"\\\\]')`;
  return `('"' || (CASE WHEN ${plain} THEN ${expr} ELSE ${out} END) || '"')`;
}
