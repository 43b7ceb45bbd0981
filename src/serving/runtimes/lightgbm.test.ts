import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../../../test/helpers/errors.js';
import { LightgbmModel, loadLightgbmModel } from './lightgbm.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = resolve(REPO_ROOT, '../shared/fixtures/lightgbm');

function fixtureDir(name: string): string {
  if (!existsSync(FIXTURES)) {
    throw new Error(
      `LightGBM fixtures are expected at ${FIXTURES} (../shared/fixtures/lightgbm relative to the repository root); check out the shared repository beside this one`,
    );
  }
  return join(FIXTURES, name);
}

/** A CSV of numbers (`nan` = NaN), optionally skipping a header row, as rows of doubles. */
function readCsv(path: string, header: boolean): number[][] {
  const lines = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(header ? 1 : 0);
  return lines.map((line) => line.split(',').map((cell) => (cell === 'nan' ? Number.NaN : Number(cell))));
}

interface Fixture {
  model: LightgbmModel;
  header: string[];
  rows: number;
  values: Float64Array;
  predictions: number[][];
  rawScores: number[][];
}

async function loadFixture(name: string): Promise<Fixture> {
  const dir = fixtureDir(name);
  const model = await loadLightgbmModel(readFileSync(join(dir, 'model.txt')));
  expect(model).toBeInstanceOf(LightgbmModel);
  const inputs = readCsv(join(dir, 'test_inputs.csv'), true);
  return {
    model: model as LightgbmModel,
    header: readFileSync(join(dir, 'test_inputs.csv'), 'utf8').split('\n')[0]!.trim().split(','),
    rows: inputs.length,
    values: Float64Array.from(inputs.flat()),
    predictions: readCsv(join(dir, 'predictions.csv'), false),
    rawScores: readCsv(join(dir, 'raw_scores.csv'), false),
  };
}

/** Every position where ours differs from LightGBM's by even one ulp. */
function mismatches(ours: ArrayLike<number>, theirs: number[]): string[] {
  const out: string[] = [];
  if (ours.length !== theirs.length) return [`length ${ours.length} vs ${theirs.length}`];
  for (let i = 0; i < theirs.length; i++) {
    if (!Object.is(ours[i], theirs[i])) out.push(`#${i}: ours ${ours[i]} LightGBM ${theirs[i]}`);
  }
  return out;
}

/** Bit-exact equality with LightGBM 4.6 (double precision throughout, so no tolerance). */
describe.each([
  ['binary_nan', 'classification', 2],
  ['binary_categorical', 'classification', 2],
  ['multiclass', 'classification', 3],
  ['regression', 'regression', undefined],
] as const)('LightGBM fixture %s', (name, task, classCount) => {
  it('reproduces every raw score of LightGBM bit for bit', async () => {
    const f = await loadFixture(name);
    const raw = f.model.rawScores({ rows: f.rows, values: f.values });
    expect(mismatches(raw, f.rawScores.flat())).toEqual([]);
  });

  it('reproduces every prediction of LightGBM bit for bit', async () => {
    const f = await loadFixture(name);
    const answer = await f.model.predict({ rows: f.rows, values: f.values });
    if (task === 'regression') {
      expect(mismatches(answer.predictions!, f.predictions.flat())).toEqual([]);
      return;
    }
    const probabilities = Array.from(answer.probabilities!);
    if (classCount === 2) {
      const p = f.predictions.map((row) => row[0]!);
      expect(
        mismatches(
          probabilities.filter((_, i) => i % 2 === 1),
          p,
        ),
      ).toEqual([]);
      expect(
        mismatches(
          probabilities.filter((_, i) => i % 2 === 0),
          p.map((x) => 1 - x),
        ),
      ).toEqual([]);
    } else {
      expect(mismatches(probabilities, f.predictions.flat())).toEqual([]);
    }
    const expectedLabels = f.predictions.map((row) => {
      const full = classCount === 2 ? [1 - row[0]!, row[0]!] : row;
      return full.indexOf(Math.max(...full));
    });
    expect(Array.from(answer.label!)).toEqual(expectedLabels);
  });

  it('states the feature names, task and class count in its signature', async () => {
    const f = await loadFixture(name);
    expect(f.model.format).toBe('lightgbm');
    expect(f.model.signature).toEqual({
      task,
      featureCount: f.header.length,
      featureNames: f.header,
      ...(classCount ? { classCount } : {}),
      outputDatatype: 'FP64',
    });
  });
});

describe('LightGBM model batches', () => {
  it('exercises NaN routing: the binary_nan inputs contain missing cells', async () => {
    const f = await loadFixture('binary_nan');
    expect(Array.from(f.values).filter(Number.isNaN).length).toBe(198);
  });

  it('answers FP32 input exactly as the same values in FP64', async () => {
    const f = await loadFixture('multiclass');
    const single = Float32Array.from(f.values);
    const fromSingle = await f.model.predict({ rows: f.rows, values: single });
    const fromDouble = await f.model.predict({ rows: f.rows, values: Float64Array.from(single) });
    expect(fromSingle).toEqual(fromDouble);
  });

  it('answers an empty batch with empty outputs', async () => {
    const f = await loadFixture('binary_nan');
    const answer = await f.model.predict({ rows: 0, values: new Float64Array(0) });
    expect([answer.probabilities!.length, answer.label!.length]).toEqual([0, 0]);
  });

  it('rejects a batch whose value count does not fit rows x features, naming input', async () => {
    const f = await loadFixture('regression');
    const err = await expectInvalid(f.model.predict({ rows: 2, values: new Float64Array(29) }), 'input');
    expect(err.message).toContain('[2, 15]');
    await expectInvalid(f.model.predict({ rows: 1, values: new Float64Array(16) }), 'input');
  });

  it('rejects a negative or fractional row count, naming input', async () => {
    const f = await loadFixture('regression');
    await expectInvalid(f.model.predict({ rows: -1, values: new Float64Array(0) }), 'input');
    await expectInvalid(f.model.predict({ rows: 0.5, values: new Float64Array(0) }), 'input');
  });

  it('rejects a truncated fixture model at load time', async () => {
    const bytes = readFileSync(join(fixtureDir('binary_categorical'), 'model.txt'));
    const err = await expectInvalid(loadLightgbmModel(bytes.subarray(0, bytes.length >> 1)), 'file');
    expect(err.message).toContain('truncated');
  });
});
