/**
 * Category counts of the categorical columns of the view `clean`: one query over all of them,
 * unpivoted (which drops nulls) and ranked by count, then value, per column.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type CategoryShare, TOP_CATEGORIES } from './profile.js';

/** The top categories (count, then value) of every listed column alias, with shares over `counts`. */
export async function topCategories(
  con: DuckDBConnection,
  counts: Map<string, number>,
): Promise<Map<string, CategoryShare[]>> {
  const out = new Map<string, CategoryShare[]>([...counts.keys()].map((a) => [a, []]));
  const present = [...counts].filter(([, n]) => n > 0).map(([alias]) => alias);
  if (present.length === 0) return out;
  const on = present.join(', ');
  const sql = `
    WITH u AS (UNPIVOT (SELECT ${on} FROM clean) ON ${on} INTO NAME col VALUE val),
    g AS (SELECT col, val, count(*) AS n FROM u GROUP BY col, val),
    r AS (SELECT col, val, n, row_number() OVER (PARTITION BY col ORDER BY n DESC, val) AS rk FROM g)
    SELECT col, val, n FROM r WHERE rk <= ${TOP_CATEGORIES} ORDER BY col, rk`;
  for (const r of (await con.runAndReadAll(sql)).getRowObjectsJS()) {
    const alias = String(r.col);
    const count = Number(r.n);
    out.get(alias)?.push({ value: String(r.val), count, share: count / (counts.get(alias) as number) });
  }
  return out;
}
