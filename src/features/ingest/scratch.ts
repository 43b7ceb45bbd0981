/**
 * Scratch tables: a push or file load stages rows in tables named `<prefix><run id hex>` and drops
 * them when done. A process that dies mid-write leaves them behind, so the feature store drops any
 * it finds when it opens the offline store it alone writes.
 */
import type { OfflineStore } from '../../stores/offline/port.js';

/** Prefixes of every scratch table ingestion creates; each is followed by a run id's 32 hex digits. */
export const SCRATCH_PREFIXES = ['stg_', 'file_raw_', 'file_bad_', 'file_good_', 'file_new_'] as const;

const SCRATCH_NAME = new RegExp(`^(${SCRATCH_PREFIXES.join('|')})[0-9a-f]{32}(_[a-z0-9_]+)?$`);

/** Drops the scratch tables a crashed run left behind; answers their names. */
export async function dropLeftoverScratchTables(offline: OfflineStore): Promise<string[]> {
  const tables = await offline.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'",
  );
  const leftovers = tables.map((t) => t.table_name).filter((name) => SCRATCH_NAME.test(name));
  for (const name of leftovers) await offline.query(`DROP TABLE IF EXISTS "${name}"`);
  return leftovers;
}
