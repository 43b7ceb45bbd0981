import { describe, expect, it } from 'vitest';
import { parseDuration } from './clock.js';
import { newId } from './ids.js';

describe('ids', () => {
  it('makes UUID v7 ids that sort in creation order', () => {
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000].map((t) => newId(t));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => newId(0))).size).toBe(1000);
  });
});

describe('parseDuration', () => {
  it('reads the units feature TTLs and timeouts use', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
  });

  it('answers undefined for text that is not a duration', () => {
    expect(parseDuration('30 days')).toBeUndefined();
    expect(parseDuration('-1h')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});
