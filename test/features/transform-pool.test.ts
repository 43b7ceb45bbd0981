import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { createTransformPool, type TransformPool } from '../../src/features/ingest/transform-pool.js';
import { runTsView, TRANSFORM_CHUNK_ROWS } from '../../src/features/ingest/ts-transform.js';
import { emptyState, planApply } from '../../src/features/plan.js';
import { USER } from '../helpers/catalog.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';

let pool: TransformPool;

beforeAll(() => {
  pool = createTransformPool({ threads: 2 });
});

afterAll(async () => {
  await pool?.close();
});

/** A transform that sleeps (without using a core) and reports when it ran. */
const SLEEPY = `(rows) => {
  const start = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  return [{ start, end: Date.now() }];
}`;

describe('the transform pool', () => {
  it('transforms several batches in parallel on its threads', async () => {
    await Promise.all([1, 2].map(() => pool.run({ key: 'warm@1', text: '(rows) => rows', rows: [] })));
    const answers = await Promise.all(
      [1, 2].map(() => pool.run({ key: 'sleepy@1', text: SLEEPY, rows: [] })),
    );
    const [a, b] = answers.map((answer) =>
      answer.ok ? (answer.rows[0] as { start: number; end: number }) : undefined,
    );
    expect(a && b).toBeTruthy();
    expect(Math.max(a!.start, b!.start)).toBeLessThan(Math.min(a!.end, b!.end));
  });

  it('passes Dates and bigints into the function and back', async () => {
    const answer = await pool.run({
      key: 'types@1',
      text: '(rows) => rows.map((r) => ({ doubled: r.n * 2n, year: r.at.getUTCFullYear(), at: r.at }))',
      rows: [{ n: 2n ** 60n, at: new Date('2024-05-01T00:00:00Z') }],
    });
    expect(answer).toEqual({
      ok: true,
      rows: [{ doubled: 2n ** 61n, year: 2024, at: new Date('2024-05-01T00:00:00Z') }],
    });
  });

  it('compiles a view once per transform version and again for a new version', async () => {
    const counting = (tag: string) =>
      `(() => { globalThis.compiles = (globalThis.compiles ?? 0) + 1; return (rows) => rows.map(() => ({ compiles: globalThis.compiles, tag: '${tag}' })); })()`;
    const single = createTransformPool({ threads: 1 });
    try {
      const run = (key: string, tag: string) => single.run({ key, text: counting(tag), rows: [{}] });
      await run('count@1', 'a');
      await run('count@1', 'a');
      expect(await run('count@1', 'a')).toEqual({ ok: true, rows: [{ compiles: 1, tag: 'a' }] });
      expect(await run('count@2', 'b')).toEqual({ ok: true, rows: [{ compiles: 2, tag: 'b' }] });
    } finally {
      await single.close();
    }
  });

  it('compiles methods and the __name calls esbuild inserts', async () => {
    const method = await pool.run({
      key: 'method@1',
      text: 'transform(rows) { return rows; }',
      rows: [{ a: 1 }],
    });
    expect(method).toEqual({ ok: true, rows: [{ a: 1 }] });
    const named = await pool.run({
      key: 'named@1',
      text: '(rows) => { const f = __name((r) => ({ b: r.a }), "f"); return rows.map(f); }',
      rows: [{ a: 1 }],
    });
    expect(named).toEqual({ ok: true, rows: [{ b: 1 }] });
  });

  it('answers where a transform failed instead of throwing', async () => {
    expect(await pool.run({ key: 'num@1', text: '42', rows: [] })).toMatchObject({
      ok: false,
      stage: 'compile',
    });
    expect(await pool.run({ key: 'obj@1', text: '() => ({})', rows: [] })).toMatchObject({
      ok: false,
      stage: 'output',
    });
  });

  it('accepts 1 to 64 threads', async () => {
    await expectInvalid(
      Promise.resolve().then(() => createTransformPool({ threads: 0 })),
      'transformThreads',
    );
    await expectInvalid(
      Promise.resolve().then(() => createTransformPool({ threads: 65 })),
      'transformThreads',
    );
  });
});

describe('runTsView', () => {
  const viewOf = (transform: string) =>
    catalogFromDefinitions(
      planApply(emptyState(), {
        entities: [USER],
        sources: [
          { name: 's', kind: 'stream', timestampField: 'ts', schema: { user_id: 'int64', ts: 'timestamp' } },
        ],
        featureViews: [{ name: 'v', entities: ['user'], source: 's', features: { i: 'int32' }, transform }],
      }).definitions,
    ).view('v')!;
  const view = viewOf('(rows) => rows.map((r) => ({ user_id: r.user_id, i: Number(r.user_id), ts: r.ts }))');

  it('fails naming the view when the output cannot be passed back from the thread', async () => {
    const broken = viewOf('(rows) => rows.map((r) => ({ user_id: r.user_id, i: () => 1, ts: r.ts }))');
    const err = await expectCode(
      runTsView(pool, broken, { rows: [{ user_id: 1n, ts: new Date(0) }], timestampField: 'ts' }),
      'FAILED_PRECONDITION',
    );
    expect(err.message).toMatch(/feature view "v".*could not be passed back.*such as a function/);
  });

  it('splits a large batch into chunks and keeps the output in input order', async () => {
    const n = TRANSFORM_CHUNK_ROWS * 2 + 17;
    const rows = Array.from({ length: n }, (_, i) => ({ user_id: BigInt(i), ts: new Date(i) }));
    const out = await runTsView(pool, view, { rows, timestampField: 'ts' });
    expect(out.map((r) => r.features.i)).toEqual(rows.map((_, i) => i));
    expect(out.map((r) => r.eventTime)).toEqual(rows.map((_, i) => i));
    expect(out.every((r, i) => i === 0 || r.created > out[i - 1]!.created)).toBe(true);
  });
});
