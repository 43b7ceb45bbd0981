import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { driftTable, registerDriftCommand, runDrift } from '../../src/cli/drift.js';
import type { DriftMethod, DriftReport } from '../../src/monitoring/drift/types.js';
import { rejection } from '../helpers/errors.js';
import { expectPValue, expectStatistic, type FixtureNumber, fixtureCases } from './drift-fixtures.js';

interface ReportCase {
  name: string;
  reference: Record<string, unknown[]>;
  current: Record<string, unknown[]>;
  columns: Record<string, { method: DriftMethod; score: FixtureNumber; pValue: FixtureNumber | null }>;
}

function rows(columns: Record<string, unknown[]>): Record<string, unknown>[] {
  const names = Object.keys(columns);
  return columns[names[0]!]!.map((_, i) => Object.fromEntries(names.map((n) => [n, columns[n]![i]])));
}

function csv(columns: Record<string, unknown[]>): string {
  const names = Object.keys(columns);
  const lines = rows(columns).map((r) => names.map((n) => (r[n] === null ? '' : String(r[n]))).join(','));
  return `${names.join(',')}\n${lines.join('\n')}\n`;
}

describe('meridian drift', () => {
  const c = fixtureCases<ReportCase>('report')[0]!;
  let dir: string;
  let referenceCsv: string;
  let currentParquet: string;
  let currentJsonl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-drift-cli-'));
    referenceCsv = join(dir, 'reference.csv');
    currentJsonl = join(dir, 'current.jsonl');
    currentParquet = join(dir, 'current.parquet');
    writeFileSync(referenceCsv, csv(c.reference));
    writeFileSync(
      currentJsonl,
      `${rows(c.current)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    await con.run(
      `COPY (SELECT * FROM read_json_auto('${currentJsonl}')) TO '${currentParquet}' (FORMAT parquet)`,
    );
    con.closeSync();
    instance.closeSync();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads CSV and Parquet and reports SciPy's numbers", async () => {
    const { report, counts } = await runDrift({ reference: referenceCsv, current: currentParquet });
    for (const [name, expected] of Object.entries(c.columns)) {
      const column = report.columns[name]!;
      expect(column.method).toBe(expected.method);
      expectStatistic(column.score, expected.score, `${name} score`);
      expectPValue(column.pValue, expected.pValue as FixtureNumber, `${name} p-value`);
    }
    expect(counts.age!.referenceNulls).toBe(c.reference.age!.filter((v) => v === null).length);
    expect(counts.age!.currentNulls).toBe(c.current.age!.filter((v) => v === null).length);
  });

  it('reads JSON lines the same way', async () => {
    const fromParquet = await runDrift({ reference: referenceCsv, current: currentParquet });
    const fromJsonl = await runDrift({ reference: referenceCsv, current: currentJsonl });
    expect(fromJsonl.report).toEqual(fromParquet.report);
  });

  it('prints a table with one row per column and the dataset verdict, or the JSON report', async () => {
    const analysis = await runDrift({
      reference: referenceCsv,
      current: currentParquet,
      methods: 'plan=psi',
    });
    const text = driftTable(analysis);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(
      /^column\s+type\s+method\s+score\s+p-value\s+threshold\s+status\s+nulls \(ref\/cur\)$/,
    );
    expect(lines[2]).toMatch(/^plan\s+categorical\s+psi\s+\S+\s+-\s+0\.1\s+(ok|warning|drift)\s+0\/0$/);
    expect(lines.at(-1)).toMatch(/^dataset drift: (yes|no), \d of 3 columns drifted \(\d+%\)$/);

    const program = new Command().exitOverride();
    registerDriftCommand(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(
        ['drift', '--reference', referenceCsv, '--current', currentParquet, '--json'],
        {
          from: 'user',
        },
      );
      const printed = JSON.parse(String(write.mock.calls[0]![0])) as DriftReport;
      expect(printed).toEqual((await runDrift({ reference: referenceCsv, current: currentParquet })).report);
    } finally {
      write.mockRestore();
    }
  });

  it('names the flag and the fix for bad input', async () => {
    const bad = async (flags: Parameters<typeof runDrift>[0], pattern: RegExp) => {
      const err = await rejection(runDrift(flags));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(pattern);
    };
    await bad(
      { reference: join(dir, 'missing.csv'), current: currentParquet },
      /^--reference: no file .*missing\.csv; check the path/,
    );
    await bad(
      { reference: join(dir, 'a.xlsx'), current: currentParquet },
      /^--reference: cannot tell the format/,
    );
    await bad(
      { reference: referenceCsv, current: currentParquet, methods: 'age=kolmogorov' },
      /^--methods: age=kolmogorov: unknown method; use one of ks/,
    );
    await bad(
      { reference: referenceCsv, current: currentParquet, methods: 'plan=ks' },
      /^--methods plan: ks compares numbers/,
    );
    await bad(
      { reference: referenceCsv, current: currentParquet, columnTypes: 'nope=numerical' },
      /^--column-types nope: names no column/,
    );
    await bad(
      { reference: referenceCsv, current: currentParquet, thresholds: 'age=-1' },
      /^--thresholds: age=-1: not a positive number/,
    );
  });
});
