import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import {
  extractWindow,
  presentCounts,
  valueCounts,
  type WindowSpec,
} from '../../src/monitoring/drift/window-extract.js';
import { windowValues } from '../../src/monitoring/drift/window-values.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../../src/serving/prediction-log-event.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { tempStoreDir } from '../helpers/servers.js';

const SPEC: WindowSpec = {
  model: 'm',
  version: 1,
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-01-02T00:00:00Z'),
  features: ['a', 'b'],
};

/** One logged row at 2026-01-01 plus `minute` minutes. */
function row(minute: number, names: string | null, features: string): string {
  return `('r${minute}', 0, 'm', 1, 'v2', TIMESTAMP '2026-01-01 00:00:00' + INTERVAL ${minute} MINUTE,
    NULL, ${names === null ? 'NULL' : `'${names}'::JSON`}, ${features}, '{}'::JSON, 1.0)`;
}

describe('extractWindow', () => {
  let dir: string;
  let offline: OfflineStore;
  beforeAll(async () => {
    dir = tempStoreDir('window-extract');
    offline = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.query(
      `INSERT INTO ${PREDICTIONS_TABLE} VALUES ${[
        row(1, null, '[1, 10]'),
        row(2, '["a", "b"]', '[2, 20]'),
        row(3, '["b", "a"]', '[30, 3]'),
        row(4, '["b", "c"]', `[40, 99]`),
        row(5, null, `[NULL, 'inf'::DOUBLE]`),
        row(60 * 25, null, '[7, 70]'),
      ].join(', ')}`,
    );
  });
  afterAll(async () => {
    await offline.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes each value by the name its row gives it, by position when the row has none', async () => {
    const window = await extractWindow(offline, SPEC, 5);
    try {
      const values = new Map<string, Float64Array>();
      const times = { read: 0, sort: 0, use: 0 };
      await windowValues(offline, window, ['a', 'b'], times, (name, v) => values.set(name, v));
      expect([...values.get('a')!]).toEqual([1, 2, 3]);
      expect([...values.get('b')!]).toEqual([10, 20, 30, 40]);
    } finally {
      await window.drop();
    }
  });

  it('counts a value the row lacks, a null and an infinity as missing, in the wide and the long form', async () => {
    const window = await extractWindow(offline, SPEC, 5);
    try {
      expect(await presentCounts(offline, window)).toEqual(
        new Map([
          ['a', 3],
          ['b', 4],
        ]),
      );
      const counts = await valueCounts(offline, window.table, ['b']);
      expect(
        counts
          .get('b')!
          .map((c) => c.v)
          .sort((x, y) => x! - y!),
      ).toEqual([10, 20, 30, 40]);
      const long = await offline.query<{ col: string; n: bigint; nulls: bigint }>(
        `SELECT col, count(*) AS n, count(*) FILTER (WHERE v IS NULL) AS nulls FROM "${window.table}" GROUP BY col ORDER BY col`,
      );
      expect(long).toEqual([
        { col: 'a', n: 5n, nulls: 2n },
        { col: 'b', n: 5n, nulls: 1n },
      ]);
    } finally {
      await window.drop();
    }
  });

  it('drops its table and view', async () => {
    const window = await extractWindow(offline, SPEC, 5);
    await window.drop();
    const left = await offline.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = '${window.wide}'`,
    );
    expect(left[0]!.n).toBe(0n);
    await expect(offline.query(`SELECT * FROM "${window.table}"`)).rejects.toThrow();
  });
});
