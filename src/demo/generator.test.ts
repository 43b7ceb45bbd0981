import { describe, expect, it } from 'vitest';
import { ActivityGenerator } from './generator.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const withoutTime = ({ ts: _, ...rest }: { ts: string }) => rest;

describe('ActivityGenerator', () => {
  it('sends the same events for the same seed', () => {
    const a = new ActivityGenerator({ users: 1000, seed: 7 }).batch(500, NOW);
    const b = new ActivityGenerator({ users: 1000, seed: 7 }).batch(500, NOW);
    const c = new ActivityGenerator({ users: 1000, seed: 8 }).batch(500, NOW);
    expect(a).toEqual(b);
    expect(c.map(withoutTime)).not.toEqual(a.map(withoutTime));
  });

  it('gives a few heavy users most of the traffic and keeps every id in range', () => {
    const events = new ActivityGenerator({ users: 1000, seed: 1 }).batch(20_000, NOW);
    const top10 = events.filter((e) => e.user_id <= 10).length;
    expect(top10 / events.length).toBeGreaterThan(0.25);
    expect(events.every((e) => Number.isInteger(e.user_id) && e.user_id >= 1 && e.user_id <= 1000)).toBe(
      true,
    );
  });

  it('stamps a few events minutes late and none in the future', () => {
    const events = new ActivityGenerator({ users: 100, seed: 3, lateShare: 0.05 }).batch(10_000, NOW);
    const lags = events.map((e) => NOW - Date.parse(e.ts));
    const late = lags.filter((lag) => lag >= 60_000).length;
    expect(late / events.length).toBeGreaterThan(0.03);
    expect(late / events.length).toBeLessThan(0.07);
    expect(Math.min(...lags)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lags)).toBeLessThanOrEqual(30 * 60_000);
  });

  it('skews amounts: views are free, purchases positive with a long tail, refunds negative', () => {
    const events = new ActivityGenerator({ users: 100, seed: 5 }).batch(10_000, NOW);
    const purchases = events.filter((e) => e.action === 'purchase').map((e) => e.amount);
    expect(events.filter((e) => e.action === 'view').every((e) => e.amount === 0)).toBe(true);
    expect(purchases.every((a) => a > 0)).toBe(true);
    expect(purchases.some((a) => a >= 500)).toBe(true);
    expect(events.filter((e) => e.action === 'refund').every((e) => e.amount < 0)).toBe(true);
  });

  it('makes each bad event wrong in a different field', () => {
    const generator = new ActivityGenerator({ users: 100, seed: 0 });
    const mistakes = [0, 1, 2].map(() => generator.badEvent(NOW));
    expect(typeof mistakes[0]!.amount).toBe('string');
    expect(mistakes[1]!.ts).not.toMatch(/Z$/);
    expect(typeof mistakes[2]!.user_id).toBe('string');
  });
});
