import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { createFileLoader } from '../../src/features/ingest/files/load.js';
import { createIngestor, type Ingestor, type IngestorOptions } from '../../src/features/ingest/push.js';
import { createTransformPool, type TransformPool } from '../../src/features/ingest/transform-pool.js';
import { emptyState, planApply } from '../../src/features/plan.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { USER } from '../helpers/catalog.js';
import { expectCode } from '../helpers/errors.js';
import { countRows } from '../helpers/offline.js';
import { tempStoreDir } from '../helpers/servers.js';

const schema = { user_id: 'int64', amount: 'float64', ts: 'timestamp' } as const;
const source = (name: string) => ({ name, kind: 'stream', timestampField: 'ts', schema });
const tsView = (name: string, src: string, transform: string, features = { x: 'float64' }) => ({
  name,
  entities: ['user'],
  source: src,
  features,
  transform,
});

const definitions = planApply(emptyState(), {
  entities: [USER],
  sources: ['activity', 'risky', 'gaps', 'extras', 'nulls', 'closures'].map(source),
  featureViews: [
    // Declared downstream first: the engine orders views, not the payload.
    {
      name: 'pair_counts',
      entities: ['user'],
      views: ['doubled', 'tripled'],
      features: { n: 'int64', total: 'float64' },
      sql: `SELECT user_id, count(*) AS n, sum(x) AS total, max(event_timestamp) AS event_timestamp
            FROM (SELECT user_id, x, event_timestamp FROM {{doubled}}
                  UNION ALL SELECT user_id, y AS x, event_timestamp FROM {{tripled}}) GROUP BY user_id`,
    },
    { name: 'doubled_copy', entities: ['user'], views: ['doubled'], features: { x: 'float64' } },
    tsView(
      'doubled',
      'activity',
      '(rows) => rows.map((r) => ({ user_id: r.user_id, x: r.amount * 2, ts: r.ts }))',
    ),
    {
      name: 'tripled',
      entities: ['user'],
      source: 'activity',
      features: { y: 'float64' },
      sql: 'SELECT user_id, ts, amount * 3 AS y FROM {{source}}',
    },
    tsView(
      'explode',
      'risky',
      '(rows) => rows.map((r) => { if (r.amount < 0) throw new RangeError("negative amount " + r.amount); return { user_id: r.user_id, x: r.amount, ts: r.ts }; })',
    ),
    tsView('gappy', 'gaps', '(rows) => rows.map((r) => ({ user_id: r.user_id, ts: r.ts }))'),
    tsView('extra', 'extras', '(rows) => rows.map((r) => ({ user_id: r.user_id, x: 1, y: 2, ts: r.ts }))'),
    tsView('nully', 'nulls', '(rows) => rows.map((r) => ({ user_id: null, x: 1, ts: r.ts }))'),
    tsView(
      'closure',
      'closures',
      '(rows) => rows.map((r) => ({ user_id: r.user_id, x: outerRate * r.amount, ts: r.ts }))',
    ),
  ],
}).definitions;
const catalog = catalogFromDefinitions(definitions);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const event = (user: number, minutes: number, amount: number) => ({
  user_id: user,
  amount,
  ts: new Date(T0 + minutes * 60_000).toISOString(),
});

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let pool: TransformPool;
let ingestor: Ingestor;

const count = (table: string): Promise<number> => countRows(offline, table);

beforeAll(async () => {
  dir = tempStoreDir('dag');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  pool = createTransformPool({ threads: 2 });
  const options: IngestorOptions = {
    offline,
    online,
    catalog,
    transforms: pool,
    maxDelayMs: 2,
  };
  ingestor = createIngestor(options);
});

afterAll(async () => {
  await ingestor?.close();
  await pool?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('views reading views', () => {
  it('computes a view of several views per batch from the rows those views produced in that batch', async () => {
    await ingestor.push('activity', [event(1, 0, 10), event(1, 1, 20), event(2, 2, 5)]);
    await ingestor.push('activity', [event(1, 3, 1)]);
    const rows = await offline.query(
      'SELECT user_id, n, total, event_timestamp FROM fv_pair_counts ORDER BY event_timestamp',
    );
    expect(rows).toEqual([
      { user_id: 1n, n: 4n, total: 60 + 90, event_timestamp: new Date(T0 + 60_000) },
      { user_id: 2n, n: 2n, total: 25, event_timestamp: new Date(T0 + 120_000) },
      { user_id: 1n, n: 2n, total: 5, event_timestamp: new Date(T0 + 180_000) },
    ]);
    const [read] = await online.getMany('pair_counts', ['1'], ['n', 'total']);
    expect(read).toMatchObject({ found: true, eventTime: T0 + 180_000 });
  });

  it('projects an upstream view and gives downstream rows created timestamps after their inputs', async () => {
    const rows = await offline.query<{ x: number; up: Date; down: Date }>(
      `SELECT c.x, d.created_timestamp AS up, c.created_timestamp AS down
       FROM fv_doubled_copy c JOIN fv_doubled d USING (user_id, event_timestamp) ORDER BY c.event_timestamp`,
    );
    expect(rows.map((r) => r.x)).toEqual([20, 40, 10, 2]);
    for (const row of rows) expect(row.down.getTime()).toBeGreaterThan(row.up.getTime());
  });

  it('flows a file through the same views, downstream included', async () => {
    const path = join(dir, 'activity.csv');
    writeFileSync(path, 'user_id,amount,ts\n3,7,2024-05-02T00:00:00Z\n3,1,2024-05-02T00:01:00Z\n');
    const loader = createFileLoader({ offline, online, catalog, transforms: pool });
    const result = await loader.load('activity', { path, name: 'activity.csv', format: 'csv' }, 'reject');
    expect(result.accepted).toBe(2);
    const rows = await offline.query('SELECT n, total FROM fv_pair_counts WHERE user_id = 3');
    expect(rows).toEqual([{ n: 4n, total: 14 + 21 + 2 + 3 }]);
    expect(await offline.query('SELECT x FROM fv_doubled_copy WHERE user_id = 3 ORDER BY x')).toEqual([
      { x: 2 },
      { x: 14 },
    ]);
  });
});

describe('a failing TypeScript transform', () => {
  const TABLES = ['src_risky', 'fv_explode'];

  it('fails the push with FAILED_PRECONDITION naming the view and the thrown message, writing nothing', async () => {
    const err = await expectCode(
      ingestor.push('risky', [event(1, 0, 3), event(2, 0, -4)]),
      'FAILED_PRECONDITION',
    );
    expect(err.message).toContain('feature view "explode"');
    expect(err.message).toContain('RangeError: negative amount -4');
    expect(await Promise.all(TABLES.map(count))).toEqual([0, 0]);
  });

  it('fails a file load the same way, writing nothing', async () => {
    const path = join(dir, 'risky.csv');
    writeFileSync(path, 'user_id,amount,ts\n1,3,2024-05-02T00:00:00Z\n2,-4,2024-05-02T00:01:00Z\n');
    const loader = createFileLoader({ offline, online, catalog, transforms: pool });
    const err = await expectCode(
      loader.load('risky', { path, name: 'risky.csv', format: 'csv' }, 'reject'),
      'FAILED_PRECONDITION',
    );
    expect(err.message).toContain('negative amount -4');
    expect(await Promise.all(TABLES.map(count))).toEqual([0, 0]);
  });

  it('names the output row and the columns it lacks or adds', async () => {
    const gap = await expectCode(ingestor.push('gaps', [event(1, 0, 1)]), 'FAILED_PRECONDITION');
    expect(gap.message).toMatch(/feature view "gappy".*output row 0 lacks x/);
    const extra = await expectCode(ingestor.push('extras', [event(1, 0, 1)]), 'FAILED_PRECONDITION');
    expect(extra.message).toMatch(/feature view "extra".*output row 0 has y, which the view does not have/);
    expect(await count('fv_gappy')).toBe(0);
  });

  it('rejects a null join key in an output row with INVALID_ARGUMENT', async () => {
    const err = await expectCode(ingestor.push('nulls', [event(1, 0, 1)]), 'INVALID_ARGUMENT');
    expect(err.message).toMatch(/feature view "nully".*user_id in output row 0/);
  });

  it('says a transform must be self-contained when it uses an outer name', async () => {
    const err = await expectCode(ingestor.push('closures', [event(1, 0, 1)]), 'FAILED_PRECONDITION');
    expect(err.message).toContain('ReferenceError: outerRate is not defined');
    expect(err.message).toContain('self-contained');
  });
});
