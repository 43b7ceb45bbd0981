/**
 * Historical retrieval benchmark: `getHistoricalFeatures` (entity rows from JavaScript, tie-break,
 * TTL, input order) against a hand-written single DuckDB query with one plain ASOF JOIN per view over
 * the same tables, whose entity rows are already a table. Both run three ways: rows returned to
 * JavaScript, rows written to Parquet with COPY, and entity rows read from a Parquet file (as
 * `meridian features historical --entities rows.parquet` sends them) written to Parquet. Reports the
 * median of the rounds and the ratio.
 * Sizes: BENCH_ENTITY_ROWS (default 1M), BENCH_VIEW_ROWS per view (default 3.3M: 3 views, 10M rows).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../src/core/logger.js';
import { catalogFromDefinitions } from '../src/features/catalog.js';
import { definitionsSchema } from '../src/features/definitions.js';
import { viewTable, viewTableSchema } from '../src/features/layout.js';
import { getHistoricalFeatures, writeHistoricalParquet } from '../src/features/retrieval/point-in-time.js';
import { createOfflineStore } from '../src/stores/offline/index.js';
import type { OfflineStore } from '../src/stores/offline/port.js';
import { tempStoreDir } from '../test/helpers/servers.js';

const ENTITY_ROWS = Number(process.env.BENCH_ENTITY_ROWS ?? 1_000_000);
const VIEW_ROWS = Number(process.env.BENCH_VIEW_ROWS ?? 3_333_334);
const USERS = 100_000;
const ROUNDS = 3;
const VIEWS = ['bench_a', 'bench_b', 'bench_c'];
const T0_US = BigInt(Date.parse('2025-01-01T00:00:00Z')) * 1000n;
const SPAN_US = 365n * 86_400_000_000n;

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [{ name: 'user', joinKeys: ['user_id'] }],
    sources: [
      {
        name: 'bench',
        kind: 'batch',
        timestampField: 'ts',
        schema: { user_id: 'int64', amount: 'float64', ts: 'timestamp' },
      },
    ],
    featureViews: VIEWS.map((name) => ({
      name,
      entities: ['user'],
      source: 'bench',
      features: { amount: 'float64' },
    })),
  }),
);
const refs = VIEWS.map((v) => `${v}:amount`);

/** Fills each view table with random rows (some corrections at equal event times) by SQL. */
async function generate(store: OfflineStore): Promise<void> {
  for (const [i, name] of VIEWS.entries()) {
    const table = viewTable(name);
    await store.ensureTable(table, viewTableSchema(catalog.view(name)!));
    await store.query(
      `INSERT INTO ${table} SELECT (hash(n * 3 + ${i}) % ${USERS})::BIGINT, random(),
         make_timestamp(${T0_US} + (hash(n * 7 + ${i}) % ${SPAN_US / 1_000_000n})::BIGINT * 1000000),
         make_timestamp(${T0_US} + (hash(n * 7 + ${i}) % ${SPAN_US / 1_000_000n})::BIGINT * 1000000 + (hash(n) % 1000000)::BIGINT),
         1, 'bench' FROM range(${VIEW_ROWS}) t(n)`,
    );
  }
  await store.query(
    `CREATE TABLE bench_entities AS SELECT n AS row_id, (hash(n * 11) % ${USERS})::BIGINT AS user_id,
       make_timestamp(${T0_US} + (hash(n * 13) % ${SPAN_US / 1000n})::BIGINT * 1000) AS event_timestamp
     FROM range(${ENTITY_ROWS}) t(n)`,
  );
}

/** The hand-written query: one plain ASOF JOIN per view, no tie-break, no TTL. */
const handWritten = (): string => {
  const joins = VIEWS.map(
    (v, i) =>
      `ASOF LEFT JOIN ${viewTable(v)} v${i} ON e.user_id = v${i}.user_id AND e.event_timestamp >= v${i}.event_timestamp`,
  );
  const columns = VIEWS.map((v, i) => `v${i}.amount AS "${v}:amount"`);
  return `SELECT e.user_id, e.event_timestamp, ${columns.join(', ')} FROM bench_entities e ${joins.join(' ')} ORDER BY e.row_id`;
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(label: string, ours: () => Promise<unknown>, baseline: () => Promise<unknown>) {
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await timed(ours));
    b.push(await timed(baseline));
  }
  const [mine, theirs] = [median(a), median(b)];
  console.log(
    `${label.padEnd(28)} getHistoricalFeatures ${(mine / 1000).toFixed(2)} s  hand-written ASOF ${(theirs / 1000).toFixed(2)} s  ratio ${(mine / theirs).toFixed(2)}x`,
  );
}

async function main(): Promise<void> {
  const dir = tempStoreDir('bench-historical');
  const store = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
  try {
    console.log(`${ENTITY_ROWS} entity rows x ${VIEWS.length} views x ${VIEW_ROWS} rows each`);
    await generate(store);
    const entities = (
      await store.query<{ user_id: bigint; event_timestamp: Date }>(
        'SELECT user_id, event_timestamp FROM bench_entities ORDER BY row_id',
      )
    ).map((r) => ({ user_id: Number(r.user_id), event_timestamp: r.event_timestamp.getTime() }));
    await compare(
      'rows to JavaScript',
      () => getHistoricalFeatures(store, catalog, entities, refs),
      () => store.query(handWritten()),
    );
    const out = join(dir, 'out.parquet');
    await compare(
      'rows to Parquet',
      () => writeHistoricalParquet(store, catalog, entities, refs, out),
      () => store.query(`COPY (${handWritten()}) TO '${out}' (FORMAT parquet)`),
    );
    const file = join(dir, 'entities.parquet');
    await store.query(
      `COPY (SELECT user_id, event_timestamp FROM bench_entities ORDER BY row_id) TO '${file}' (FORMAT parquet)`,
    );
    await compare(
      'entity file to Parquet',
      () => writeHistoricalParquet(store, catalog, { path: file, format: 'parquet' }, refs, out),
      () => store.query(`COPY (${handWritten()}) TO '${out}' (FORMAT parquet)`),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
