import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { BASELINE_MIGRATIONS } from '../../src/monitoring/baseline/migrations.js';
import type {
  CategoricalColumnProfile,
  NumericColumnProfile,
} from '../../src/monitoring/baseline/profile.js';
import { type BaselineService, createBaselineService } from '../../src/monitoring/baseline/service.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../../src/serving/migrations.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'drift', 'baseline');
const REFERENCE = join(FIXTURES, 'reference.csv');
interface NumericWant {
  count: number;
  nulls: number;
  distinct: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  quantiles: number[];
  cuts: number[];
  binCounts: number[];
  binShares: number[];
}
interface CategoricalWant {
  count: number;
  nulls: number;
  distinct: number;
  categories: { value: string; count: number; share: number }[];
}
/** numpy's values, written by scripts/fixtures/drift_baseline.py. */
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  rows: number;
  quantileProbs: number[];
  numeric: Record<string, NumericWant>;
  categorical: Record<string, CategoricalWant>;
};
const csv = { path: REFERENCE, name: 'reference.csv' };

/** Relative tolerance 1e-9, absolute 1e-9 for expected values below 1 in magnitude. */
function expectClose(actual: number | null | undefined, wanted: number, what: string): void {
  expect(actual, what).toBeTypeOf('number');
  expect(Math.abs((actual as number) - wanted), `${what}: ${actual} vs ${wanted}`).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(wanted)),
  );
}

/** A state store with the registry's and the baselines' tables, and versions 1 and 2 of churn. */
async function prepare(dir: string, root: string): Promise<void> {
  const state = await createStateStore(`pglite:${dir}`, { dataDir: root, logger: silentLogger });
  await state.migrate([...MODEL_REGISTRY_MIGRATIONS, ...BASELINE_MIGRATIONS]);
  await state.exec(`INSERT INTO models (name, last_version) VALUES ('churn', 2);
    INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, stage, created_by)
    SELECT 'churn', v, 'onnx', 'models/churn/' || v, 'x', 1, '{}', 'staging', 'test' FROM generate_series(1, 2) v;`);
  await state.close();
}

/** Runs one statement in a throwaway DuckDB (to write test files). */
async function duck(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run(sql);
  con.closeSync();
  instance.closeSync();
}

const convert = (from: string, to: string, format: string) =>
  duck(`COPY (SELECT * FROM read_csv('${from}', header = true)) TO '${to}' (FORMAT ${format})`);

async function sampleRows(artifact: ArtifactStore, path: string, dir: string): Promise<[string, number][]> {
  const file = join(dir, `read-${Math.random().toString(36).slice(2)}.parquet`);
  writeFileSync(file, await artifact.getBuffer(path));
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const rows = (await con.runAndReadAll(`SELECT "column", value FROM read_parquet('${file}')`)).getRowsJS();
  con.closeSync();
  instance.closeSync();
  return rows.map(([c, v]) => [String(c), Number(v)]);
}

describe('baselines of model versions', () => {
  const template = pgliteTemplate('baseline', prepare);
  let state: StateStore;
  let artifact: ArtifactStore;
  let service: BaselineService;

  beforeAll(async () => {
    const dir = template.freshDir();
    const ctx = { dataDir: template.root, logger: silentLogger };
    state = await createStateStore(`pglite:${dir}`, ctx);
    artifact = await createArtifactStore(`file:${dir}-artifacts`, ctx);
    service = createBaselineService({ state, artifact, logger: silentLogger, tmpDir: template.root });
  });
  afterAll(async () => {
    await artifact?.close();
    await state?.close();
  });

  it('profiles numeric columns exactly as numpy: quantiles, decile bins, mean, population std, range, nulls', async () => {
    const profile = await service.put('churn', 1, csv, {
      prediction: 'prediction',
      categorical: ['label'],
      label: 'label',
    });
    expect(profile.rows).toBe(expected.rows);
    for (const [name, want] of Object.entries(expected.numeric)) {
      const got = profile.columns[name] as NumericColumnProfile;
      expect(got.type, name).toBe('numerical');
      expect([got.count, got.nulls, got.distinct], name).toEqual([want.count, want.nulls, want.distinct]);
      expectClose(got.nullShare, want.nulls / expected.rows, `${name} nullShare`);
      for (const k of ['min', 'max', 'mean', 'std'] as const) expectClose(got[k], want[k], `${name} ${k}`);
      expect(got.quantiles?.probs).toEqual(expected.quantileProbs);
      for (const [i, q] of want.quantiles.entries())
        expectClose(got.quantiles?.values[i], q, `${name} q${i}`);
      expect(got.bins?.cuts.length, name).toBe(want.cuts.length);
      for (const [i, c] of want.cuts.entries()) expectClose(got.bins?.cuts[i], c, `${name} cut ${i}`);
      expect(got.bins?.counts, name).toEqual(want.binCounts);
      for (const [i, share] of want.binShares.entries())
        expectClose(got.bins?.shares[i], share, `${name} share ${i}`);
    }
    expect(profile.columns.visits?.type === 'numerical' && profile.columns.visits.bins?.cuts).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it('profiles categorical columns with shares over non-null values, in roles the upload named', async () => {
    const profile = await service.put('churn', 1, csv, {
      prediction: 'prediction',
      label: 'label',
      categorical: ['label'],
    });
    expect(profile.features).toEqual(['amount', 'score', 'visits', 'city', 'flag', 'empty']);
    expect([profile.prediction, profile.label]).toEqual(['prediction', 'label']);
    expect([profile.columns.prediction?.role, profile.columns.label?.role]).toEqual(['prediction', 'label']);
    for (const [name, want] of Object.entries(expected.categorical)) {
      const got = profile.columns[name] as CategoricalColumnProfile;
      expect(got.type, name).toBe('categorical');
      expect([got.count, got.nulls, got.distinct], name).toEqual([want.count, want.nulls, want.distinct]);
      expect(got.categories.map((c) => [c.value, c.count])).toEqual(
        want.categories.map((c) => [c.value, c.count]),
      );
      for (const [i, c] of want.categories.entries()) expectClose(got.categories[i]?.share, c.share, name);
      expect(got.other).toEqual({ categories: 0, count: 0, share: 0 });
    }
  });

  it('profiles an all-null column as all-null instead of failing', async () => {
    const profile = await service.put('churn', 1, csv);
    expect(profile.columns.empty).toMatchObject({
      count: 0,
      nulls: expected.rows,
      nullShare: 1,
      distinct: 0,
      categories: [],
    });
    expect(profile.columns.label).toMatchObject({ type: 'numerical', role: 'feature' });
  });

  it('profiles an all-null numeric column, drops NaN and infinities as nulls, and buckets rare categories', async () => {
    const path = join(template.root, 'odd.parquet');
    await duck(`COPY (SELECT i, NULL::DOUBLE AS blank,
      (CASE i % 5 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN NULL ELSE i END)::DOUBLE AS odd,
      'k' || lpad((i % 150)::VARCHAR, 3, '0') AS code FROM range(1500) r(i)) TO '${path}' (FORMAT parquet)`);
    const profile = await service.put('churn', 2, { path, name: 'odd.parquet' });
    expect(profile.columns.blank).toMatchObject({
      type: 'numerical',
      count: 0,
      nullShare: 1,
      mean: null,
      quantiles: null,
      bins: null,
    });
    expect(profile.columns.odd).toMatchObject({
      count: 600,
      nulls: 900,
      nullShare: 0.6,
      min: 3,
      max: 1499,
      mean: 751,
    });
    expect(profile.sample.counts).toEqual({ i: 1500, blank: 0, odd: 600 });
    expect(profile.columns.i).toMatchObject({ distinct: 1500, distinctCapped: false });
    const code = profile.columns.code as CategoricalColumnProfile;
    expect(code.categories).toHaveLength(100);
    expect(code.categories[0]).toEqual({ value: 'k000', count: 10, share: 10 / 1500 });
    expect(code.categories[99]?.value).toBe('k099');
    expect(code.other).toEqual({ categories: 50, count: 500, share: 1 / 3 });
  });

  it('counts distinct values exactly up to 10 000 and reports more as capped', async () => {
    const path = join(template.root, 'wide.parquet');
    await duck(`COPY (SELECT i::DOUBLE AS x, 'k' || i AS key, (i % 7)::DOUBLE AS small
      FROM range(12000) r(i)) TO '${path}' (FORMAT parquet)`);
    const profile = await service.put('churn', 2, { path, name: 'wide.parquet' });
    expect(profile.columns.x).toMatchObject({ distinct: 10_000, distinctCapped: true });
    expect(profile.columns.key).toMatchObject({ distinct: 10_000, distinctCapped: true });
    expect(profile.columns.small).toMatchObject({ distinct: 7, distinctCapped: false });
    expect((profile.columns.key as CategoricalColumnProfile).other.count).toBe(12_000 - 100);
  });

  it('gives the same profile for the dataset as Parquet and as JSONL', async () => {
    const fromCsv = await service.put('churn', 2, csv);
    for (const [format, name] of [
      ['parquet', 'ref.parquet'],
      ['json', 'ref.jsonl'],
    ] as const) {
      const path = join(template.root, name);
      await convert(REFERENCE, path, format);
      const other = await service.put('churn', 2, { path, name });
      for (const column of ['amount', 'score', 'visits', 'prediction', 'city', 'flag', 'label']) {
        const { sourceType: _a, ...a } = fromCsv.columns[column] as NumericColumnProfile;
        const { sourceType: _b, ...b } = other.columns[column] as NumericColumnProfile;
        expect(b, `${format} ${column}`).toEqual(a);
      }
      expect(other.sample.sha256).toBe(fromCsv.sample.sha256);
    }
  });

  it('draws a sample repeatable by seed and bounded by sampleSize, of every value when it fits', async () => {
    const first = await service.put('churn', 1, csv, { sampleSize: 500, seed: 7 });
    const again = await service.put('churn', 1, csv, { sampleSize: '500', seed: '7' });
    expect(again.sample.sha256).toBe(first.sample.sha256);
    expect(first.sample).toMatchObject({
      path: 'Baselines/churn/v1/sample.parquet',
      seed: 7,
      sampleSize: 500,
    });
    expect(first.sample.counts).toEqual({
      amount: 500,
      score: 500,
      visits: 500,
      prediction: 500,
      label: 500,
    });
    const rows = await sampleRows(artifact, first.sample.path, template.root);
    expect(rows.filter(([c]) => c === 'score')).toHaveLength(500);
    expect(rows.every(([, v]) => Number.isFinite(v))).toBe(true);
    const reseeded = await service.put('churn', 1, csv, { sampleSize: 500, seed: 8 });
    expect(reseeded.sample.sha256).not.toBe(first.sample.sha256);

    const whole = await service.put('churn', 1, csv);
    expect(whole.sample.counts.score).toBe(expected.numeric.score?.count);
    const scores = (await sampleRows(artifact, whole.sample.path, template.root)).filter(
      ([c]) => c === 'score',
    );
    const all = readFileSync(REFERENCE, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1]);
    const wanted = all
      .filter((s) => s !== '')
      .map(Number)
      .sort((a, b) => a - b);
    expect(scores.map(([, v]) => v)).toEqual(wanted);
  });

  it('replaces the baseline on a second upload, one upload at a time, keeping one row per version', async () => {
    const racing = await Promise.all(
      [7, 8].map((seed) => service.put('churn', 1, csv, { sampleSize: 50, seed })),
    );
    expect((await service.get('churn', 1)).sample.seed).toBe(racing[1]?.sample.seed);
    expect((await artifact.stat(racing[1]?.sample.path as string))?.sha256).toBe(racing[1]?.sample.sha256);
    await service.put('churn', 1, csv, { features: ['amount'] });
    const second = await service.put('churn', 1, csv, {
      features: ['city', 'score'],
      prediction: 'prediction',
    });
    const stored = await service.get('churn', 1);
    expect(stored).toEqual(second);
    expect(Object.keys(stored.columns)).toEqual(['score', 'city', 'prediction']);
    const rows = await state.query(
      'SELECT rows, sample_artifact FROM model_baselines WHERE model = $1 AND version = 1',
      ['churn'],
    );
    expect(rows.rows).toEqual([
      { rows: BigInt(expected.rows), sample_artifact: 'Baselines/churn/v1/sample.parquet' },
    ]);
  });

  it('answers NOT_FOUND naming model and version for an unknown version, and stores nothing', async () => {
    await expect(service.put('churn', 9, csv)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/"churn" has no version 9/),
    });
    await expect(service.get('churn', 9)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { model: 'churn', version: 9 },
    });
    await expect(service.put('fraud', 1, csv)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('"fraud"'),
    });
    expect(await artifact.list('Baselines/churn/v9')).toEqual([]);
  });

  it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
    const text = (name: string, body: string) => {
      const path = join(template.root, name);
      writeFileSync(path, body);
      return { path, name };
    };
    const cases: [() => Promise<unknown>, string][] = [
      [() => service.put('churn', 1, csv, { prediction: 'pred' }), 'prediction'],
      [() => service.put('churn', 1, csv, { label: 'target' }), 'label'],
      [() => service.put('churn', 1, csv, { categorical: ['colour'] }), 'categorical'],
      [() => service.put('churn', 1, csv, { features: ['amount', 'nope'] }), 'features'],
      [() => service.put('churn', 1, csv, { sampleSize: 0 }), 'sampleSize'],
      [() => service.put('churn', 1, csv, { seed: -1 }), 'seed'],
      [() => service.put('churn', 1, text('notes.txt', 'hello')), 'file'],
      [() => service.put('churn', 1, text('empty.csv', '')), 'file'],
      [() => service.put('churn', 1, text('header.csv', 'a,b\n')), 'file'],
      [() => service.put('churn', 1, text('fake.parquet', 'a,b\n1,2\n')), 'file'],
      [() => service.put('churn', 1, text('bad.jsonl', '{"a": 1\n')), 'file'],
      [() => service.put('churn', 1, { ...csv, format: 'xlsx' }), 'format'],
      [() => service.put('churn', 'v1', csv), 'version'],
    ];
    for (const [attempt, field] of cases) {
      await expect(attempt(), field).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
    }
    await expect(service.put('churn', 1, text('header2.csv', 'a,b\n'))).rejects.toThrow(
      /"header2.csv" has no rows/,
    );
  });
});
