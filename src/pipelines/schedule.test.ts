import { describe, expect, it } from 'vitest';
import { backfillTicks, dueTicks } from './schedule.js';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('dueTicks', () => {
  const hourly = { cron: '0 * * * *' };

  it('owes the newest tick at or before now the first time', () => {
    expect(iso(dueTicks(hourly, null, at('2026-03-01T10:30:00Z')))).toEqual(['2026-03-01T10:00:00.000Z']);
  });

  it('owes a tick that falls exactly on now', () => {
    expect(iso(dueTicks(hourly, null, at('2026-03-01T10:00:00Z')))).toEqual(['2026-03-01T10:00:00.000Z']);
  });

  it('owes nothing when the newest tick was already started', () => {
    expect(dueTicks(hourly, at('2026-03-01T10:00:00Z'), at('2026-03-01T10:59:59Z'))).toEqual([]);
  });

  it('skips missed ticks without catchup', () => {
    const due = dueTicks(hourly, at('2026-03-01T06:00:00Z'), at('2026-03-01T10:30:00Z'));
    expect(iso(due)).toEqual(['2026-03-01T10:00:00.000Z']);
  });

  it('catches up every missed tick, oldest first', () => {
    const due = dueTicks(
      { ...hourly, catchup: true },
      at('2026-03-01T07:00:00Z'),
      at('2026-03-01T10:30:00Z'),
    );
    expect(iso(due)).toEqual([
      '2026-03-01T08:00:00.000Z',
      '2026-03-01T09:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
    ]);
  });

  it('catches up at most maxCatchup ticks, the newest', () => {
    const due = dueTicks(
      { ...hourly, catchup: true, maxCatchup: 2 },
      at('2026-03-01T00:00:00Z'),
      at('2026-03-01T10:30:00Z'),
    );
    expect(iso(due)).toEqual(['2026-03-01T09:00:00.000Z', '2026-03-01T10:00:00.000Z']);
  });

  it('reads the expression in the schedule time zone, across a DST change', () => {
    // 02:30 local does not exist in Paris on 2026-03-29; 09:00 local is 07:00 UTC after the change.
    const daily = { cron: '0 9 * * *', timezone: 'Europe/Paris', catchup: true };
    const due = dueTicks(daily, at('2026-03-27T08:00:00Z'), at('2026-03-30T12:00:00Z'));
    expect(iso(due)).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });

  it('rejects an unknown time zone naming schedule.timezone', () => {
    expect(() => dueTicks({ cron: '0 * * * *', timezone: 'Mars/Olympus' }, null, new Date())).toThrow(
      /schedule\.timezone/,
    );
  });

  it('rejects an invalid expression naming schedule.cron', () => {
    expect(() => dueTicks({ cron: '61 * * * *' }, null, new Date())).toThrow(/schedule\.cron/);
  });
});

describe('backfillTicks', () => {
  it('answers one tick per interval from inclusive to exclusive', () => {
    const ticks = backfillTicks(
      { cron: '0 0 * * *' },
      at('2026-01-01T00:00:00Z'),
      at('2026-01-04T00:00:00Z'),
    );
    expect(iso(ticks)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
  });

  it('rejects a range that is not forward', () => {
    expect(() =>
      backfillTicks({ cron: '0 0 * * *' }, at('2026-01-04T00:00:00Z'), at('2026-01-01T00:00:00Z')),
    ).toThrow(/from/);
  });

  it('rejects a range of more ticks than its limit', () => {
    expect(() =>
      backfillTicks({ cron: '* * * * *' }, at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'), 50),
    ).toThrow(/more than 50 ticks/);
  });
});
