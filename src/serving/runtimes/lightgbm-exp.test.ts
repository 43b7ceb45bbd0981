import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXP_TABLE, fma, glibcExp } from './lightgbm-exp.js';

/** Debian's Python, whose math.exp is the system libm's (installed wherever the serving tests run). */
const PYTHON = '/usr/bin/python3';

/** The 64 bits of a double as hex. */
function hex(value: number): string {
  const bytes = new DataView(new ArrayBuffer(8));
  bytes.setFloat64(0, value);
  return bytes.getBigUint64(0).toString(16).padStart(16, '0');
}

describe('glibc exp', () => {
  it('builds the same 2^(k/128) table as glibc (first and last entries of __exp_data.tab)', () => {
    const entries = [1, 2, 127].map((k) => [
      hex(EXP_TABLE.tail[k]!),
      (EXP_TABLE.high[k]! >>> 0).toString(16) + EXP_TABLE.low[k]!.toString(16).padStart(8, '0'),
    ]);
    expect(entries).toEqual([
      ['3c9b3b4f1a88bf6e', '3feff63da9fb3335'],
      ['bc7160139cd8dc5d', '3fefec9a3e778061'],
      ['3c5305c14160cc89', '3feff3c22b8f71f1'],
    ]);
  });

  it('rounds a * b + c once, as a hardware fused multiply-add does', () => {
    const a = 1 + 2 ** -30;
    // a * a = 1 + 2^-29 + 2^-60: a separate multiply loses the 2^-60 term, a fused one keeps it.
    expect(fma(a, a, -(1 + 2 ** -29))).toBe(2 ** -60);
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17);
  });

  it('handles the edges: zero, tiny, infinities, NaN, overflow and underflow', () => {
    expect([glibcExp(0), glibcExp(-0), glibcExp(1e-300)]).toEqual([1, 1, 1]);
    expect([glibcExp(Number.NEGATIVE_INFINITY), glibcExp(Number.POSITIVE_INFINITY)]).toEqual([
      0,
      Number.POSITIVE_INFINITY,
    ]);
    expect(glibcExp(Number.NaN)).toBeNaN();
    expect([glibcExp(710), glibcExp(-746)]).toEqual([Number.POSITIVE_INFINITY, 0]);
  });

  it('equals the system libm exp bit for bit on 20000 seeded inputs across its range', () => {
    const script = [
      'import math, random',
      'random.seed(11)',
      'xs = [random.uniform(-40, 40) for _ in range(15000)] + [random.uniform(-745, 709) for _ in range(5000)]',
      'print("\\n".join(f"{x!r} {math.exp(x)!r}" for x in xs))',
    ].join('\n');
    const lines = execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    const differing = lines.filter((line) => {
      const [x, expected] = line.split(' ').map(Number);
      return !Object.is(glibcExp(x!), expected);
    });
    expect(lines).toHaveLength(20000);
    expect(differing).toEqual([]);
  });
});
