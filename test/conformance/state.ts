/**
 * The state store conformance suite: every StateStore implementation must pass these, unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Migration, SqlExecutor, StateStore } from '../../src/stores/state/port.js';
import { rejection } from '../helpers/errors.js';

export interface StateStoreFixture {
  store: StateStore;
  /** Closes the store and opens the same database again. */
  reopen(): Promise<StateStore>;
  teardown(): Promise<void>;
}

const M1: Migration = {
  version: 1,
  name: 'models',
  sql: 'CREATE TABLE models (id text PRIMARY KEY, n int NOT NULL)',
};
const M2: Migration = {
  version: 2,
  name: 'runs',
  sql: "CREATE TABLE runs (id bigint PRIMARY KEY, model text REFERENCES models(id)); INSERT INTO models VALUES ('seed', 0)",
};
const M3: Migration = {
  version: 5,
  name: 'audit',
  sql: 'CREATE TABLE audit (at timestamptz); CREATE INDEX audit_at ON audit (at)',
};

async function tables(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

async function ledger(
  db: SqlExecutor,
): Promise<{ version: number; name: string; checksum: string; applied_at: Date }[]> {
  const { rows } = await db.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    'SELECT version, name, checksum, applied_at FROM meridian_migrations ORDER BY version',
  );
  return rows;
}

/** Runs the shared state store suite against one implementation. */
export function stateStoreConformance(name: string, setup: () => Promise<StateStoreFixture>): void {
  describe(`state store conformance: ${name}`, () => {
    let fx: StateStoreFixture;
    let store: StateStore;

    beforeEach(async () => {
      fx = await setup();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.teardown();
    });

    it('applies migrations in order and records version, name, checksum and time of each', async () => {
      const before = Date.now();
      const result = await store.migrate([M1, M2, M3]);
      expect(result).toEqual({ applied: [1, 2, 5], skipped: [] });
      expect(await tables(store)).toEqual(['audit', 'meridian_migrations', 'models', 'runs']);
      const rows = await ledger(store);
      expect(rows.map((r) => [r.version, r.name])).toEqual([
        [1, 'models'],
        [2, 'runs'],
        [5, 'audit'],
      ]);
      expect(new Set(rows.map((r) => r.checksum)).size).toBe(3);
      for (const r of rows) {
        expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(r.applied_at.getTime()).toBeGreaterThanOrEqual(before - 5000);
      }
    });

    it('changes nothing when the same migrations run again', async () => {
      await store.migrate([M1, M2, M3]);
      const tablesBefore = await tables(store);
      const ledgerBefore = await ledger(store);
      const modelsBefore = (await store.query('SELECT * FROM models ORDER BY id')).rows;
      expect(await store.migrate([M1, M2, M3])).toEqual({ applied: [], skipped: [1, 2, 5] });
      expect(await tables(store)).toEqual(tablesBefore);
      expect(await ledger(store)).toEqual(ledgerBefore);
      expect((await store.query('SELECT * FROM models ORDER BY id')).rows).toEqual(modelsBefore);
    });

    it('applies only the migrations added since the last run', async () => {
      await store.migrate([M1]);
      expect(await store.migrate([M1, M2, M3])).toEqual({ applied: [2, 5], skipped: [1] });
    });

    it('rejects an applied migration whose SQL changed, naming its version, and applies nothing after it', async () => {
      await store.migrate([M1]);
      const changed = { ...M1, sql: `${M1.sql}; CREATE TABLE sneaky (x int)` };
      const err = await rejection(store.migrate([changed, M2]));
      expect(err.code).toBe('FAILED_PRECONDITION');
      expect(err.message).toContain('migration 1');
      expect(await tables(store)).toEqual(['meridian_migrations', 'models']);
    });

    it('leaves nothing of a failing migration behind and keeps the ones before it', async () => {
      const failing: Migration = {
        version: 2,
        name: 'broken',
        sql: "CREATE TABLE half (x int); INSERT INTO models VALUES ('ghost', 1); SELECT 1 / 0",
      };
      const err = await rejection(store.migrate([M1, failing]));
      expect(err.message).toContain('division by zero');
      expect(await tables(store)).toEqual(['meridian_migrations', 'models']);
      expect((await store.query('SELECT id FROM models')).rows).toEqual([]);
      expect((await ledger(store)).map((r) => r.version)).toEqual([1]);
    });

    it('rejects a new migration numbered below one already applied', async () => {
      await store.migrate([M1, M3]);
      const err = await rejection(store.migrate([M1, M2, M3]));
      expect(err.code).toBe('FAILED_PRECONDITION');
      expect(err.message).toContain('migration 2');
      expect(await tables(store)).not.toContain('runs');
    });

    it("applies one service's migrations after another service's higher block of versions", async () => {
      const serving: Migration = { version: 200, name: 'serving', sql: 'CREATE TABLE served (id text)' };
      const features: Migration = { version: 100, name: 'features', sql: 'CREATE TABLE feats (id text)' };
      await store.migrate([serving]);
      expect((await store.migrate([features])).applied).toEqual([100]);
      expect(await tables(store)).toEqual(expect.arrayContaining(['served', 'feats']));
    });

    it('rejects migration lists whose versions are not strictly increasing positive integers', async () => {
      const cases: unknown[] = [
        [M2, M1],
        [M1, { ...M2, version: 1 }],
        [{ ...M1, version: 0 }],
        [{ ...M1, version: 1.5 }],
        [{ ...M1, name: '' }],
        [{ ...M1, sql: ' ' }],
        'not a list',
      ];
      for (const migrations of cases) {
        const err = await rejection(store.migrate(migrations as Migration[]));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.details.field).toMatch(/^migrations/);
      }
      expect(await tables(store)).not.toContain('models');
    });

    it('commits a transaction when its callback resolves', async () => {
      await store.migrate([M1]);
      const out = await store.transaction(async (tx) => {
        await tx.query('INSERT INTO models VALUES ($1, $2)', ['a', 1]);
        await tx.query('INSERT INTO models VALUES ($1, $2)', ['b', 2]);
        return (await tx.query<{ c: bigint }>('SELECT count(*) AS c FROM models')).rows[0]?.c;
      });
      expect(out).toBe(2n);
      expect((await store.query('SELECT id FROM models ORDER BY id')).rows).toEqual([
        { id: 'a' },
        { id: 'b' },
      ]);
    });

    it('rolls back every statement of a transaction when its callback throws, rethrowing that error', async () => {
      await store.migrate([M1]);
      const mine = new Error('changed my mind');
      const thrown = await store
        .transaction(async (tx) => {
          await tx.query('INSERT INTO models VALUES ($1, $2)', ['a', 1]);
          await tx.exec('CREATE TABLE scratch (x int)');
          throw mine;
        })
        .catch((e: unknown) => e);
      expect(thrown).toBe(mine);
      expect((await store.query('SELECT id FROM models')).rows).toEqual([]);
      expect(await tables(store)).not.toContain('scratch');
    });

    it('makes statements issued outside a running transaction wait for it instead of joining it', async () => {
      await store.migrate([M1]);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let inserted!: () => void;
      const insertedInTx = new Promise<void>((r) => {
        inserted = r;
      });
      const tx = store
        .transaction(async (t) => {
          await t.query("INSERT INTO models VALUES ('inside', 1)");
          inserted();
          await gate;
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await insertedInTx;
      const outside = store.query("INSERT INTO models VALUES ('outside', 2)");
      await new Promise((r) => setTimeout(r, 100));
      release();
      await Promise.all([tx, outside]);
      expect((await store.query('SELECT id FROM models')).rows).toEqual([{ id: 'outside' }]);
    });

    it('refuses a transaction executor used after its transaction ended', async () => {
      let leaked!: SqlExecutor;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      const err = await rejection(leaked.query('SELECT 1'));
      expect(err.code).toBe('FAILED_PRECONDITION');
    });

    it('round-trips bigint, json, bytea, timestamptz, boolean, text, arrays and null parameters', async () => {
      await store.exec(`CREATE TABLE vals (
        big bigint, doc jsonb, raw bytea, at timestamptz, ok boolean, label text, tags text[], nums bigint[], nothing text)`);
      const at = new Date('2024-02-29T12:34:56.789Z');
      const doc = { nested: { list: [1, 'two', null], flag: true }, unicode: 'Zürich ✓' };
      const raw = new Uint8Array([0, 1, 127, 128, 255]);
      const big = 9_007_199_254_740_993n;
      const inserted = await store.query('INSERT INTO vals VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        big,
        doc,
        raw,
        at,
        true,
        "it's",
        ['a', 'b,c'],
        [big, -1n, null],
        null,
      ]);
      expect(inserted.affectedRows).toBe(1);
      const { rows } = await store.query<Record<string, unknown>>('SELECT * FROM vals');
      const row = rows[0]!;
      expect(row.big).toBe(big);
      expect(row.doc).toEqual(doc);
      expect(new Uint8Array(row.raw as Uint8Array)).toEqual(raw);
      expect(row.at).toBeInstanceOf(Date);
      expect((row.at as Date).toISOString()).toBe(at.toISOString());
      expect(row.ok).toBe(true);
      expect(row.label).toBe("it's");
      expect(row.tags).toEqual(['a', 'b,c']);
      expect(row.nums).toEqual([big, -1n, null]);
      expect(row.nothing).toBeNull();
    });

    it('reports rows changed by INSERT, UPDATE and DELETE in affectedRows, and 0 for SELECT', async () => {
      await store.migrate([M1]);
      expect((await store.query("INSERT INTO models VALUES ('a', 1), ('b', 2), ('c', 3)")).affectedRows).toBe(
        3,
      );
      expect((await store.query('UPDATE models SET n = n + 1 WHERE n >= $1', [2])).affectedRows).toBe(2);
      expect((await store.query("DELETE FROM models WHERE id = 'a'")).affectedRows).toBe(1);
      const select = await store.query('SELECT * FROM models');
      expect(select.rows).toHaveLength(2);
      expect(select.affectedRows).toBe(0);
    });

    it('keeps its data and migration history across close and reopen', async () => {
      await store.migrate([M1]);
      await store.query("INSERT INTO models VALUES ('kept', 7)");
      store = await fx.reopen();
      expect((await store.query('SELECT id, n FROM models')).rows).toEqual([{ id: 'kept', n: 7 }]);
      expect(await store.migrate([M1, M2])).toEqual({ applied: [2], skipped: [1] });
    });

    it('turns bad SQL into a MeridianError that carries the database message and SQLSTATE', async () => {
      const err = await rejection(store.query('SELEC 1'));
      expect(err.message).toContain('syntax error at or near "SELEC"');
      expect(err.details.sqlState).toBe('42601');
      const missing = await rejection(store.exec('SELECT * FROM no_such_table'));
      expect(missing.message).toContain('relation "no_such_table" does not exist');
    });

    it('maps a unique violation to ALREADY_EXISTS and keeps the store usable', async () => {
      await store.migrate([M1]);
      await store.query("INSERT INTO models VALUES ('a', 1)");
      const err = await rejection(store.query("INSERT INTO models VALUES ('a', 2)"));
      expect(err.code).toBe('ALREADY_EXISTS');
      expect(err.message).toContain('duplicate key');
      expect((await store.query('SELECT n FROM models')).rows).toEqual([{ n: 1 }]);
    });

    it('rejects bad arguments with INVALID_ARGUMENT naming the argument', async () => {
      const calls: [Promise<unknown>, string][] = [
        [store.query(''), 'sql'],
        [store.query(42 as unknown as string), 'sql'],
        [store.exec('   '), 'sql'],
        [store.query('SELECT $1', 'x' as unknown as []), 'params'],
        [store.query('SELECT $1::int', [undefined as unknown as null]), 'params[0]'],
        [store.query('SELECT $1::timestamptz', [new Date('nope')]), 'params[0]'],
        [store.transaction('no' as unknown as () => Promise<void>), 'fn'],
      ];
      for (const [call, field] of calls) {
        const err = await rejection(call);
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.details.field).toBe(field);
      }
    });

    it('answers ping while open, refuses every call with STORE_UNAVAILABLE once closed, and closes twice safely', async () => {
      await store.ping();
      await store.close();
      await store.close();
      const calls = [
        store.query('SELECT 1'),
        store.exec('SELECT 1'),
        store.transaction(async () => undefined),
        store.migrate([{ version: 1, name: 'one', sql: 'SELECT 1' }]),
        store.ping(),
      ];
      for (const call of calls) {
        const err = await rejection(call);
        expect(err.code).toBe('STORE_UNAVAILABLE');
        expect(err.message).toContain('is closed');
      }
    });

    it('settles two close() calls made at once only when the store is closed', async () => {
      await Promise.all([store.close(), store.close()]);
      expect((await rejection(store.query('SELECT 1'))).code).toBe('STORE_UNAVAILABLE');
    });
  });
}
