/**
 * The offline store conformance suite: every implementation of `OfflineStore` runs these tests.
 * Tests marked persistent need a store whose data outlives the process (a file), and a URL that a
 * second process can open.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineRow, OfflineSchema, OfflineStore } from '../../src/stores/offline/port.js';
import type { StoreContext } from '../../src/stores/store.js';
import { expectInvalid, rejection } from '../helpers/errors.js';

export interface OfflineHarness {
  store: OfflineStore;
  /** The URL the store was opened with; a persistent store is reopened (also by other processes) with it. */
  url: string;
  ctx: StoreContext;
  teardown(): Promise<void>;
}

export interface OfflineCapabilities {
  /** The data lives in a file that another process can open after this one is gone. */
  persistent: boolean;
}

const ROOT = resolve(import.meta.dirname, '../..');
const WRITER = resolve(import.meta.dirname, 'fixtures/offline-writer.ts');
/** Written by fixtures/offline-writer.ts. */
const ACKED_TABLE = 'acked_batches';

async function count(store: OfflineStore, table: string): Promise<number> {
  const [row] = await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`);
  return row?.n ?? -1;
}

const READINGS: OfflineSchema = { entity_id: 'int64', event_timestamp: 'timestamp', score: 'float64' };
const hour = (h: number): Date => new Date(Date.UTC(2024, 5, 1, h));

interface ChildRun {
  lines: string[];
  signal: NodeJS.Signals | null;
}

/** Runs the writer fixture in its own Node process; `killWhen` sees each stdout line and may SIGKILL it. */
function runWriter(args: string[], killWhen: (lines: string[]) => boolean = () => false): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      if (killWhen(lines)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) fail(new Error(`writer exited with ${code}: ${stderr}`));
      else done({ lines, signal });
    });
  });
}

const ackedBatches = (lines: string[]): number[] =>
  lines.filter((line) => line.startsWith('ack ')).map((line) => Number(line.slice(4)));

/** Defines the shared offline store tests against one implementation. */
export function offlineStoreConformance(
  name: string,
  setup: () => Promise<OfflineHarness>,
  capabilities: OfflineCapabilities,
): void {
  // File-only behaviour is not defined at all for an in-memory store, rather than reported as skipped.
  const fileIt = (capabilities.persistent ? it : () => undefined) as typeof it;
  describe(`offline store conformance: ${name}`, () => {
    let h: OfflineHarness;
    let store: OfflineStore;

    beforeEach(async () => {
      h = await setup();
      store = h.store;
    });
    afterEach(async () => {
      await h.teardown();
    });

    it('returns int64 beyond 2^53, floats, unicode text, booleans, ms timestamps as Date, float lists, json and null unchanged', async () => {
      await store.ensureTable('all_types', {
        big: 'int64',
        small: 'int32',
        ratio: 'float64',
        half: 'float32',
        text: 'string',
        flag: 'bool',
        at: 'timestamp',
        vector: 'float64[]',
        meta: 'json',
      });
      const full = {
        big: 2n ** 62n + 7n,
        small: -(2 ** 31),
        ratio: 1 / 3,
        half: 1.5,
        text: 'naïve 日本語 🚀 "quoted" \'single\'',
        flag: false,
        at: new Date('2024-02-29T23:59:59.987Z'),
        vector: [1.5, -2, 1e-300, 0],
        meta: { tags: ['a', 'β'], nested: { n: 1, none: null } },
      };
      const empty = Object.fromEntries(Object.keys(full).map((key) => [key, null]));
      await expect(store.append('all_types', [full, empty])).resolves.toEqual({ rows: 2 });
      const rows = await store.query('SELECT * FROM all_types ORDER BY big NULLS LAST');
      expect(rows).toEqual([full, empty]);
    });

    it('takes timestamps as epoch milliseconds and int64 as safe integers, and gives them back as Date and bigint', async () => {
      await store.ensureTable('readings', READINGS);
      await store.append('readings', [{ entity_id: 42, event_timestamp: hour(3).getTime(), score: 2 }]);
      const rows = await store.query('SELECT entity_id, event_timestamp FROM readings');
      expect(rows).toEqual([{ entity_id: 42n, event_timestamp: hour(3) }]);
    });

    it('treats ensureTable on an existing identical table as a no-op that keeps its rows', async () => {
      await store.ensureTable('readings', READINGS);
      await store.append('readings', [{ entity_id: 1n, event_timestamp: hour(1), score: 1 }]);
      await store.ensureTable('readings', READINGS);
      await store.ensureTable('readings', {
        score: 'float64',
        entity_id: 'int64',
        event_timestamp: 'timestamp',
      });
      expect(await count(store, 'readings')).toBe(1);
    });

    it('rejects ensureTable with FAILED_PRECONDITION naming the column when the existing table differs', async () => {
      await store.ensureTable('readings', READINGS);
      const conflicts: [OfflineSchema, string][] = [
        [{ ...READINGS, score: 'float32' }, 'score'],
        [{ entity_id: 'int64', event_timestamp: 'timestamp' }, 'score'],
        [{ ...READINGS, label: 'string' }, 'label'],
      ];
      for (const [schema, column] of conflicts) {
        const err = await rejection(store.ensureTable('readings', schema));
        expect({ code: err.code, column: err.details.column }).toEqual({
          code: 'FAILED_PRECONDITION',
          column,
        });
        expect(err.message).toContain(`column ${column}`);
      }
    });

    it('writes nothing from a batch of 1000 with one bad row, naming the row and the column', async () => {
      await store.ensureTable('readings', READINGS);
      await store.append('readings', [{ entity_id: 1n, event_timestamp: hour(1), score: 1 }]);
      const batch: OfflineRow[] = Array.from({ length: 1000 }, (_, i) => ({
        entity_id: BigInt(i),
        event_timestamp: hour(2),
        score: i === 500 ? 'high' : i,
      }));
      const err = await expectInvalid(store.append('readings', batch), 'rows[500].score');
      expect(err.details).toMatchObject({ row: 500, column: 'score' });
      batch[500] = { entity_id: 500n, event_timestamp: hour(2), score: 5, mood: 'calm' };
      await expectInvalid(store.append('readings', batch), 'rows[500].mood');
      expect(await count(store, 'readings')).toBe(1);
    });

    it('rejects each wrongly typed value with INVALID_ARGUMENT naming row and column', async () => {
      await store.ensureTable('typed', {
        i64: 'int64',
        i32: 'int32',
        f64: 'float64',
        s: 'string',
        b: 'bool',
        ts: 'timestamp',
        v: 'float64[]',
        j: 'json',
      });
      const bad: [string, unknown][] = [
        ['i64', 1.5],
        ['i64', 2 ** 53],
        ['i64', 2n ** 63n],
        ['i32', 2 ** 31],
        ['i32', 2n],
        ['f64', '1.0'],
        ['s', 5],
        ['b', 1],
        ['ts', new Date('not a date')],
        ['ts', '2024-01-01'],
        ['v', [1, '2']],
        ['j', 10n],
      ];
      for (const [column, value] of bad) {
        await expectInvalid(store.append('typed', [{ i64: 1n }, { [column]: value }]), `rows[1].${column}`);
      }
      expect(await count(store, 'typed')).toBe(0);
    });

    it('honours NOT NULL and DEFAULT of a table made with SQL: missing or null is rejected, defaults are filled', async () => {
      await store.query("CREATE TABLE strict (id BIGINT NOT NULL, note VARCHAR DEFAULT 'none', v DOUBLE)");
      await expectInvalid(store.append('strict', [{ id: 1n }, { v: 1 }]), 'rows[1].id');
      await expectInvalid(store.append('strict', [{ id: null }]), 'rows[0].id');
      await store.append('strict', [{ id: 7n }]);
      expect(await store.query('SELECT * FROM strict')).toEqual([{ id: 7n, note: 'none', v: null }]);
    });

    it('leaves nothing behind when DuckDB itself rejects a row after 240,000 rows were already appended', async () => {
      await store.query('CREATE TABLE checked (id BIGINT, amount DOUBLE CHECK (amount >= 0))');
      await store.append('checked', [{ id: -1n, amount: 0 }]);
      // Past 204,800 rows the Appender has flushed to the table; only the transaction can take them back.
      const rows = Array.from({ length: 250_000 }, (_, i) => ({
        id: BigInt(i),
        amount: i === 240_000 ? -1 : i,
      }));
      const err = await expectInvalid(store.append('checked', rows), 'rows');
      expect(err.message).toMatch(/CHECK constraint.*nothing was written/s);
      expect(await count(store, 'checked')).toBe(1);
      await store.append('checked', [{ id: 1n, amount: 1 }]);
      expect(await count(store, 'checked')).toBe(2);
    });

    it('never interleaves concurrent appends: each batch lands whole or, if rejected, not at all', async () => {
      await store.query(
        'CREATE TABLE batches (batch INTEGER, seq INTEGER, amount DOUBLE CHECK (amount >= 0))',
      );
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, batch) =>
          store.append(
            'batches',
            Array.from({ length: 3000 }, (_, seq) => ({
              batch,
              seq,
              amount: batch === 3 && seq === 2999 ? -1 : seq,
            })),
          ),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(
        [0, 1, 2, 3, 4, 5, 6, 7].map((b) => (b === 3 ? 'rejected' : 'fulfilled')),
      );
      const perBatch = await store.query(
        'SELECT batch, count(*)::INTEGER AS n FROM batches GROUP BY batch ORDER BY batch',
      );
      expect(perBatch).toEqual([0, 1, 2, 4, 5, 6, 7].map((batch) => ({ batch, n: 3000 })));
    });

    it('answers an ASOF JOIN with the newest row at or before each entity timestamp, never a future one', async () => {
      await store.ensureTable('readings', READINGS);
      await store.ensureTable('spine', { entity_id: 'int64', ts: 'timestamp' });
      await store.append('readings', [
        { entity_id: 1n, event_timestamp: hour(10), score: 1 },
        { entity_id: 1n, event_timestamp: hour(11), score: 2 },
        { entity_id: 1n, event_timestamp: hour(13), score: 3 },
        { entity_id: 2n, event_timestamp: hour(9), score: 10 },
        { entity_id: 3n, event_timestamp: hour(15), score: 30 },
      ]);
      await store.append('spine', [
        { entity_id: 1n, ts: hour(12) },
        { entity_id: 1n, ts: hour(11) },
        { entity_id: 1n, ts: hour(9) },
        { entity_id: 2n, ts: hour(12) },
        { entity_id: 3n, ts: hour(12) },
      ]);
      const rows = await store.query(
        `SELECT s.entity_id, s.ts, r.score FROM spine s
         ASOF LEFT JOIN readings r ON s.entity_id = r.entity_id AND s.ts >= r.event_timestamp
         WHERE s.ts <= $1 ORDER BY s.entity_id, s.ts`,
        [hour(12)],
      );
      expect(rows).toEqual([
        { entity_id: 1n, ts: hour(9), score: null },
        { entity_id: 1n, ts: hour(11), score: 2 },
        { entity_id: 1n, ts: hour(12), score: 2 },
        { entity_id: 2n, ts: hour(12), score: 10 },
        { entity_id: 3n, ts: hour(12), score: null },
      ]);
    });

    it('binds $1-style parameters: bigint, number, string, boolean, Date, null and lists', async () => {
      const [row] = await store.query(
        'SELECT $1 + 1 AS big, $2 * 2 AS twice, $3 AS text, NOT $4 AS flipped, $5 AS at, $6 IS NULL AS missing, list_sum($7) AS total, len($8) AS names',
        [2n ** 62n, 1.25, 'é', false, hour(7), null, [1, 2.5], ['a', 'b']],
      );
      expect(row).toEqual({
        big: 2n ** 62n + 1n,
        twice: 2.5,
        text: 'é',
        flipped: true,
        at: hour(7),
        missing: true,
        total: 3.5,
        names: 2n,
      });
    });

    it('binds numbers beyond 2^53 as DOUBLE (JavaScript floats), never as a lossy or overflowing BIGINT', async () => {
      const [row] = await store.query(
        'SELECT $1 AS huge, typeof($1) AS huge_type, $2 AS beyond, typeof($2) AS beyond_type, $3 AS safe',
        [1e20, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER],
      );
      expect(row).toEqual({
        huge: 1e20,
        huge_type: 'DOUBLE',
        beyond: 2 ** 53 + 2,
        beyond_type: 'DOUBLE',
        safe: BigInt(Number.MAX_SAFE_INTEGER),
      });
    });

    it('answers queryColumns with doubles, floats and 32-bit integers as Float64Array (NaN for NULL) across chunks, other columns as query gives them', async () => {
      const sql = `SELECT CASE WHEN i % 1000 = 7 THEN NULL ELSE i / 4 END::DOUBLE AS d, (i / 2)::FLOAT AS f,
        CASE WHEN i = 3 THEN NULL ELSE i END::INTEGER AS n, i::BIGINT * 3 AS big, 'r' || i AS s,
        TIMESTAMP '2024-06-01 00:00:00' + INTERVAL (i) SECOND AS at, '{"k": 1}'::JSON AS j
        FROM range(5000) r(i) ORDER BY i`;
      const columns = await store.queryColumns(sql);
      const rows = await store.query<Record<string, unknown>>(sql);
      expect(Object.keys(columns)).toEqual(['d', 'f', 'n', 'big', 's', 'at', 'j']);
      for (const name of ['d', 'f', 'n']) expect(columns[name]).toBeInstanceOf(Float64Array);
      expect(columns.d).toHaveLength(5000);
      expect(Array.from(columns.d as Float64Array)).toEqual(rows.map((r) => r.d ?? Number.NaN));
      expect(Array.from(columns.f as Float64Array)).toEqual(rows.map((r) => r.f));
      expect(Array.from(columns.n as Float64Array)).toEqual(rows.map((r) => r.n ?? Number.NaN));
      expect((columns.d as Float64Array)[1007]).toBeNaN();
      expect((columns.n as Float64Array)[3]).toBeNaN();
      for (const name of ['big', 's', 'at', 'j']) expect(columns[name]).toEqual(rows.map((r) => r[name]));
      expect((columns.big as unknown[])[4999]).toBe(14997n);
      expect((columns.j as unknown[])[0]).toEqual({ k: 1 });
    });

    it('answers queryColumns with empty columns for no rows, binds parameters and runs statements like query', async () => {
      const empty = await store.queryColumns('SELECT 1.5::DOUBLE AS d, $1::VARCHAR AS s WHERE false', ['x']);
      expect(empty).toEqual({ d: new Float64Array(0), s: [] });
      const bound = await store.queryColumns('SELECT $1::DOUBLE * i AS d FROM range(3) r(i)', [2.5]);
      expect(Array.from(bound.d as Float64Array)).toEqual([0, 2.5, 5]);
      await store.queryColumns('CREATE TABLE made_by_columns AS SELECT 1 AS a');
      expect(await count(store, 'made_by_columns')).toBe(1);
    });

    it('rejects bad queryColumns SQL and parameters with INVALID_ARGUMENT naming the argument', async () => {
      await expectInvalid(store.queryColumns(''), 'sql');
      await expectInvalid(store.queryColumns('SELEC 1'), 'sql');
      await expectInvalid(store.queryColumns('SELECT $1 AS a', []), 'params');
      await expectInvalid(store.queryColumns('SELECT 1', 'x' as unknown as unknown[]), 'params');
      await expectInvalid(store.queryColumns('BEGIN TRANSACTION'), 'sql');
    });

    it('rejects a bigint parameter outside int64 with INVALID_ARGUMENT naming params[i]', async () => {
      for (const big of [2n ** 63n, -(2n ** 63n) - 1n]) {
        const err = await expectInvalid(store.query('SELECT $1 AS a, $2 AS b', [1, big]), 'params[1]');
        expect(err.message).toContain('int64');
      }
      const [row] = await store.query('SELECT $1 AS top, $2 AS bottom', [2n ** 63n - 1n, -(2n ** 63n)]);
      expect(row).toEqual({ top: 2n ** 63n - 1n, bottom: -(2n ** 63n) });
    });

    it('rejects bad tables, schemas, rows, SQL and parameters with INVALID_ARGUMENT naming the argument', async () => {
      await store.ensureTable('readings', READINGS);
      for (const table of ['', 'bad-name', 'x; DROP TABLE readings', '1st', 'a'.repeat(64)]) {
        await expectInvalid(store.ensureTable(table, READINGS), 'table');
        await expectInvalid(store.append(table, []), 'table');
      }
      await expectInvalid(store.ensureTable('t', {}), 'schema');
      await expectInvalid(store.ensureTable('t', null as unknown as OfflineSchema), 'schema');
      await expectInvalid(store.ensureTable('t', { 'bad col': 'int64' }), 'schema.bad col');
      await expectInvalid(store.ensureTable('t', { a: 'int128' } as unknown as OfflineSchema), 'schema.a');
      await expectInvalid(store.ensureTable('t', { a: 'int64', A: 'string' }), 'schema.A');
      await expectInvalid(store.append('readings', 'rows' as unknown as OfflineRow[]), 'rows');
      await expectInvalid(store.append('readings', [null as unknown as OfflineRow]), 'rows[0]');
      await expectInvalid(store.query(''), 'sql');
      await expectInvalid(store.query(42 as unknown as string), 'sql');
      await expectInvalid(store.query('SELEC 1'), 'sql');
      await expectInvalid(store.query('SELECT * FROM no_such_table'), 'sql');
      await expectInvalid(store.query('BEGIN TRANSACTION'), 'sql');
      await expectInvalid(store.query('SELECT $1', 'x' as unknown as unknown[]), 'params');
      await expectInvalid(store.query('SELECT $1 + $2', [1]), 'params');
      await expectInvalid(store.query('SELECT $1', [{ a: 1 }]), 'params[0]');
      expect(await count(store, 'readings')).toBe(0);
    });

    it('answers NOT_FOUND for an append to a table that does not exist', async () => {
      const err = await rejection(store.append('nowhere', [{ a: 1 }]));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toContain('nowhere');
    });

    it('answers ping, is safe to close twice, and refuses calls after close with STORE_UNAVAILABLE', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await store.close();
      for (const call of [store.ping(), store.query('SELECT 1'), store.append('t', [])]) {
        expect((await rejection(call)).code).toBe('STORE_UNAVAILABLE');
      }
    });

    fileIt(
      'keeps every acknowledged batch, whole, when the writing process is killed with SIGKILL right after an ack',
      { timeout: 90_000 },
      async () => {
        await store.close();
        const acked: number[] = [];
        let next = 0;
        for (let round = 0; round < 3; round++) {
          const run = await runWriter(
            ['append', h.url, String(next), '4000'],
            (lines) => ackedBatches(lines).length >= 3,
          );
          expect(run.signal).toBe('SIGKILL');
          acked.push(...ackedBatches(run.lines));
          const reopened = await createOfflineStore(h.url, h.ctx);
          const perBatch = await reopened.query<{ batch: number; n: number }>(
            `SELECT batch, count(*)::INTEGER AS n FROM ${ACKED_TABLE} GROUP BY batch ORDER BY batch`,
          );
          await reopened.close();
          const present = perBatch.map((row) => row.batch);
          expect(present).toEqual(expect.arrayContaining(acked));
          expect(present).toEqual(Array.from({ length: present.length }, (_, i) => i));
          expect(perBatch.filter((row) => row.n !== 4000)).toEqual([]);
          next = present.length;
        }
        expect(acked.length).toBeGreaterThanOrEqual(9);
      },
    );

    fileIt(
      'refuses a second process with STORE_UNAVAILABLE saying only one process may own the file',
      async () => {
        await store.ensureTable('readings', READINGS);
        const run = await runWriter(['open', h.url]);
        const outcome = JSON.parse(run.lines[0] ?? '{}');
        expect(outcome).toMatchObject({ opened: false, code: 'STORE_UNAVAILABLE' });
        expect(outcome.message).toMatch(/another process holds the file .*PID \d+/);
        expect(outcome.message).toContain('only one process may own the offline store');
        await store.close();
        expect(JSON.parse((await runWriter(['open', h.url])).lines[0] ?? '{}')).toEqual({ opened: true });
      },
    );

    fileIt('refuses a second open of the same file in this process', async () => {
      const err = await rejection(createOfflineStore(h.url, h.ctx));
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain('already open in this process');
      await store.ping();
    });
  });
}
