import { describe, expect, it } from 'vitest';
import { inputsOf, normalQuantile, shiftedEvents } from './shift.js';

/** A training set's amounts: 70 views, 25 purchases of 1..25, 5 refunds of -1..-5. */
const TRAINING = [
  ...Array.from({ length: 70 }, () => 0),
  ...Array.from({ length: 25 }, (_, i) => i + 1),
  ...Array.from({ length: 5 }, (_, i) => -(i + 1)),
];

describe('the demo shift', () => {
  it('inverts the standard normal distribution', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 8);
  });

  it('gives every user exactly one event, the same for the same seed', () => {
    const events = shiftedEvents(TRAINING, 200, 42, Date.UTC(2026, 0, 1));
    expect(events.map((e) => e.user_id)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(shiftedEvents(TRAINING, 200, 42, Date.UTC(2026, 0, 1))).toEqual(events);
  });

  it('turns 3 in 7 views into refunds and triples every refund', () => {
    const events = shiftedEvents(TRAINING, 100, 7, 0);
    expect(events.filter((e) => e.action === 'view')).toHaveLength(40);
    const refunds = events.filter((e) => e.action === 'refund');
    expect(refunds).toHaveLength(35);
    expect(refunds.every((e) => e.amount < 0)).toBe(true);
    const amounts = refunds.map((e) => e.amount);
    expect(amounts).toEqual(expect.arrayContaining([-3, -6, -9, -12, -15]));
  });

  it('keeps the spend features of the training set: the same purchases, everything else clipped to 0', () => {
    const events = shiftedEvents(TRAINING, 100, 7, 0);
    const purchases = events.map((e) => inputsOf(e)['user_spend:clipped_amount']).filter((v) => v! > 0);
    expect(purchases.sort((a, b) => a! - b!)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    for (const e of events.filter((x) => x.action !== 'purchase')) {
      expect(inputsOf(e)['user_spend:clipped_amount']).toBe(0);
      expect(inputsOf(e)['user_spend:is_large_purchase']).toBe(0);
    }
  });
});
