import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { ks2samp, ksStatistic } from './ks.js';

interface KsCase {
  name: string;
  a: string;
  b: string;
  method: 'exact' | 'asymp';
  statistic: number;
  pvalue: number;
}

interface KsFixture {
  scipy: string;
  samples: Record<string, number[]>;
  cases: KsCase[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/drift/ks/cases.json', import.meta.url), 'utf8'),
) as KsFixture;

function sample(name: string): Float64Array {
  const values = fixture.samples[name];
  if (!values) throw new Error(`fixture sample ${name} is missing`);
  return Float64Array.from(values);
}

/** D: absolute 1e-9. p: relative 1e-6 (so absolute 1e-6 too, as p <= 1), floored at 1e-300 for underflow. */
function expectMatches(actual: { score: number; pValue: number | null }, c: KsCase): void {
  expect(
    Math.abs(actual.score - c.statistic),
    `${c.name}: D ${actual.score} vs ${c.statistic}`,
  ).toBeLessThanOrEqual(1e-9);
  const p = actual.pValue ?? Number.NaN;
  const tolerance = 1e-6 * Math.abs(c.pvalue) + 1e-300;
  expect(Math.abs(p - c.pvalue), `${c.name}: p ${p} vs ${c.pvalue}`).toBeLessThanOrEqual(tolerance);
}

describe('ks2samp', () => {
  for (const c of fixture.cases) {
    it(`matches scipy ${fixture.scipy} ks_2samp (${c.method}) on ${c.name}`, () => {
      expectMatches(ks2samp(sample(c.a), sample(c.b)), c);
    });
  }

  for (const c of fixture.cases) {
    it(`answers the same on samples passed already sorted: ${c.name}`, () => {
      const a = sample(c.a).sort();
      const b = sample(c.b).sort();
      expect(ks2samp(a, b, true)).toEqual(ks2samp(sample(c.a), sample(c.b)));
    });
  }

  it('covers both the exact and the asymptotic p-value', () => {
    const methods = new Set(fixture.cases.map((c) => c.method));
    expect([...methods].sort()).toEqual(['asymp', 'exact']);
  });

  it('answers the same D and p whichever sample comes first', () => {
    const a = sample('norm97');
    const b = sample('norm101_shift');
    expect(ks2samp(b, a)).toEqual(ks2samp(a, b));
  });

  it('moves both ECDFs at once on tied values, so a shared value adds no difference', () => {
    expect(ksStatistic(Float64Array.of(1, 2, 2), Float64Array.of(2, 2, 3))).toBeCloseTo(1 / 3, 15);
  });

  it('does not reorder the caller arrays', () => {
    const a = Float64Array.of(3, 1, 2);
    ks2samp(a, Float64Array.of(0.5, 4));
    expect([...a]).toEqual([3, 1, 2]);
  });

  it('rejects an empty first sample naming it', () => {
    expect(() => ks2samp(new Float64Array(0), Float64Array.of(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'a' }) }),
    );
  });

  it('rejects an empty second sample naming it', () => {
    const call = () => ks2samp(Float64Array.of(1), new Float64Array(0));
    expect(call).toThrow(MeridianError);
    expect(call).toThrow(/^b: the second sample is empty/);
  });

  it('rejects NaN instead of answering a meaningless statistic', () => {
    expect(() => ks2samp(Float64Array.of(1, Number.NaN), Float64Array.of(1))).toThrow(
      /^a: the first sample contains NaN/,
    );
  });
});
