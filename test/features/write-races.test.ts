import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createFileLoader, type FileLoader } from '../../src/features/ingest/files/load.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { dropLeftoverScratchTables } from '../../src/features/ingest/scratch.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

const AMOUNT = { amount: 'float64' } as const;
const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [activitySource({ features: AMOUNT })],
    featureViews: [userActivityView({ features: AMOUNT })],
  }),
);

const T0 = Date.parse('2024-05-01T00:00:00Z');

/**
 * The real store with every write slowed down, so a writer's dedup check and its append are far
 * apart and two writers that are not kept apart would both pass the check.
 */
function withSlowWrites(store: OfflineStore): OfflineStore {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop !== 'append' && prop !== 'query') return fn.bind(target);
      return async (...args: unknown[]) => {
        if (prop === 'append' || /^\s*INSERT/i.test(String(args[0]))) await sleep(40);
        return fn.apply(target, args);
      };
    },
  });
}

describe('concurrent writers of one source', () => {
  let dir: string;
  let offline: OfflineStore;
  let online: OnlineStore;
  let ingestor: Ingestor;
  let loader: FileLoader;

  const count = async (table: string, user: number) =>
    (
      await offline.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM "${table}" WHERE user_id = $1`, [
        BigInt(user),
      ])
    )[0]!.n;

  beforeAll(async () => {
    dir = tempStoreDir('write-races');
    const ctx = { dataDir: dir, logger: silentLogger };
    offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
    online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
    const slow = withSlowWrites(offline);
    ingestor = createIngestor({ offline: slow, online, catalog, maxDelayMs: 1 });
    loader = createFileLoader({ offline: slow, online, catalog });
  });

  afterAll(async () => {
    await ingestor?.close();
    await online?.close();
    await offline?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an event once when a push and a file load of it run at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const users = Array.from({ length: 50 }, (_, i) => 1000 * (round + 1) + i);
      const events = users.map((user, i) => ({
        user_id: user,
        amount: i + 0.5,
        ts: new Date(T0 + i * 1000).toISOString(),
      }));
      const path = join(dir, `round-${round}.jsonl`);
      writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n'));
      const [pushed, loaded] = await Promise.all([
        ingestor.push('activity', events),
        loader.load('activity', { path, name: 'round.jsonl', format: 'jsonl' }, 'reject'),
      ]);
      expect(pushed.accepted + loaded.accepted).toBe(events.length);
      expect(pushed.duplicates + loaded.duplicates).toBe(events.length);
      for (const user of users) {
        expect(await count('src_activity', user)).toBe(1);
        expect(await count('fv_user_activity', user)).toBe(1);
      }
    }
  });

  it('drops the scratch tables an interrupted run left behind and nothing else', async () => {
    const run = '019a1b2c3d4e7f00a1b2c3d4e5f60718';
    for (const table of [`stg_${run}`, `file_raw_${run}`, `stg_${run}_user_activity`, 'stg_notes'])
      await offline.query(`CREATE TABLE "${table}" (x INTEGER)`);
    const dropped = await dropLeftoverScratchTables(offline);
    expect(dropped.sort()).toEqual([`file_raw_${run}`, `stg_${run}`, `stg_${run}_user_activity`]);
    const left = await offline.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'stg_%' OR table_name LIKE 'file_%'",
    );
    expect(left.map((t) => t.table_name)).toEqual(['stg_notes']);
    await offline.query('CREATE TABLE IF NOT EXISTS "fv_kept" (x INTEGER)');
    expect(await dropLeftoverScratchTables(offline)).toEqual([]);
    const kept = await offline.query<{ n: number }>(
      "SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'fv_kept'",
    );
    expect(kept[0]!.n).toBe(1);
  });
});
