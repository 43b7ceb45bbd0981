/**
 * The fixture models an OIP v2 test serves: every model file the real libraries saved (LightGBM's
 * beside the repo, XGBoost and scikit-learn → ONNX under test/fixtures), with the rows they were
 * asked about and the libraries' own predictions.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelFormat } from '../../src/serving/runtimes/model.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface FixtureModel {
  /** The name it is served under, e.g. `lightgbm-binary_nan`. */
  name: string;
  format: ModelFormat;
  modelPath: string;
  inputsCsv: string;
  predictionsCsv: string;
  /** Relative tolerance: 1e-6 for double-precision libraries, 1e-5 where the library computes in float32. */
  rtol: number;
  /** Absolute tolerance for probabilities near zero, where float32 rounding dominates. */
  atol: number;
}

interface Family {
  format: ModelFormat;
  dir: string;
  model: string;
  inputs: string;
  rtol: number;
  atol: number;
}

const FAMILIES: Family[] = [
  // LightGBM evaluates in double precision and our runtime reproduces it bit for bit.
  {
    format: 'lightgbm',
    dir: join(ROOT, '..', 'shared', 'fixtures', 'lightgbm'),
    model: 'model.txt',
    inputs: 'test_inputs.csv',
    rtol: 1e-6,
    atol: 1e-12,
  },
  // XGBoost accumulates in float32; onnxruntime computes tree ensembles and MLPs in float32.
  {
    format: 'xgboost',
    dir: join(ROOT, 'test', 'fixtures', 'xgboost'),
    model: 'model.json',
    inputs: 'inputs.csv',
    rtol: 1e-5,
    atol: 1e-6,
  },
  {
    format: 'onnx',
    dir: join(ROOT, 'test', 'fixtures', 'sklearn-onnx'),
    model: 'model.onnx',
    inputs: 'inputs.csv',
    rtol: 1e-5,
    atol: 1e-6,
  },
];

/** Every fixture model present on disk, in a stable order. */
export function fixtureModels(): FixtureModel[] {
  return FAMILIES.flatMap((family) => {
    if (!existsSync(family.dir)) return [];
    return readdirSync(family.dir)
      .filter((sub) => existsSync(join(family.dir, sub, family.model)))
      .sort()
      .map((sub) => ({
        name: `${family.format}-${sub}`,
        format: family.format,
        modelPath: join(family.dir, sub, family.model),
        inputsCsv: join(family.dir, sub, family.inputs),
        predictionsCsv: join(family.dir, sub, 'predictions.csv'),
        rtol: family.rtol,
        atol: family.atol,
      }));
  });
}

/** A numeric CSV as rows of numbers, skipping a header row; `nan` and empty cells are NaN. */
export function readNumericCsv(path: string): number[][] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const rows = lines.map((line) => line.split(',').map((cell) => cellValue(cell.trim())));
  return rows[0]?.some((v) => v === undefined) ? rows.slice(1).map(defined) : rows.map(defined);
}

function cellValue(cell: string): number | undefined {
  if (cell === '' || cell.toLowerCase() === 'nan') return Number.NaN;
  const value = Number(cell);
  return Number.isNaN(value) ? undefined : value;
}

function defined(row: (number | undefined)[]): number[] {
  return row.map((v) => v ?? Number.NaN);
}

/** Whether two values agree within the fixture's tolerances. */
export function close(actual: number, expected: number, model: FixtureModel): boolean {
  return (
    Math.abs(actual - expected) <= model.rtol * Math.max(Math.abs(actual), Math.abs(expected)) + model.atol
  );
}

/** The values a fixture's predictions.csv holds per row, from an answer's probabilities or predictions. */
export function comparable(output: number[], rows: number, expectedColumns: number): number[][] {
  const columns = output.length / rows;
  // LightGBM and XGBoost binary fixtures record only P(class 1); we answer both columns.
  const skip = columns === 2 && expectedColumns === 1 ? 1 : 0;
  return Array.from({ length: rows }, (_, r) => output.slice(r * columns + skip, (r + 1) * columns));
}
