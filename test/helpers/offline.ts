import type { OfflineStore } from '../../src/stores/offline/port.js';

/** Rows of an offline table matching `where` (SQL), 0 when the table does not exist yet. */
export async function countRows(offline: OfflineStore, table: string, where = 'true'): Promise<number> {
  const exists = await offline.query<{ n: number }>(
    'SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = $1',
    [table],
  );
  if (exists[0]!.n === 0) return 0;
  const rows = await offline.query<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM "${table}" WHERE ${where}`,
  );
  return rows[0]!.n;
}
