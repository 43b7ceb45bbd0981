/**
 * Cron ticks of a schedule (croner, in the schedule's time zone): the ticks a scheduler owes since
 * the last one it started, and the ticks of a backfill range. A tick is the run's logical date.
 */
import { Cron } from 'croner';
import { invalidArgument } from '../core/errors.js';
import type { Schedule } from './types.js';

/** Missed ticks caught up when a schedule leaves maxCatchup out. */
export const DEFAULT_MAX_CATCHUP = 100;
/** Most ticks one backfill may span, so a wrong range cannot queue millions of runs. */
export const MAX_BACKFILL_TICKS = 10_000;

function checkTimezone(zone: string | undefined, field: string): void {
  if (zone === undefined) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw invalidArgument(
      field,
      `${JSON.stringify(zone)} is not an IANA time zone`,
      'use e.g. "UTC" or "Europe/Paris"',
    );
  }
}

/** A paused croner job for the schedule; throws INVALID_ARGUMENT naming `field` when it is not valid. */
export function cronOf(schedule: Schedule, field = 'schedule'): Cron {
  checkTimezone(schedule.timezone, `${field}.timezone`);
  try {
    // A UTC schedule as an offset: croner's time-zone path formats every candidate through Intl (20x slower).
    const zone =
      schedule.timezone && schedule.timezone !== 'UTC' ? { timezone: schedule.timezone } : { utcOffset: 0 };
    return new Cron(schedule.cron, { ...zone, paused: true });
  } catch (err) {
    throw invalidArgument(
      `${field}.cron`,
      `${JSON.stringify(schedule.cron)} is not a valid cron expression (${(err as Error).message})`,
      'use five fields (minute hour day-of-month month day-of-week) or six with seconds first, e.g. "0 * * * *"',
    );
  }
}

/**
 * Ticks t with from < t <= to, oldest first, at most `max`: the newest ones when there are more, or
 * with `keep: 'oldest'` the oldest (stopping at the first one past max, so callers can tell).
 */
export function ticksBetween(
  cron: Cron,
  from: Date,
  to: Date,
  max: number,
  keep: 'newest' | 'oldest' = 'newest',
): Date[] {
  const out: Date[] = [];
  let next = cron.nextRun(from);
  while (next && next.getTime() <= to.getTime()) {
    out.push(next);
    if (out.length > max) {
      if (keep === 'oldest') return out;
      out.shift();
    }
    next = cron.nextRun(next);
  }
  return out;
}

/** The newest tick at or before `now`, if the schedule had one. */
export function latestTick(cron: Cron, now: Date): Date | undefined {
  const [latest] = cron.previousRuns(1, new Date(now.getTime() + 1000));
  return latest && latest.getTime() <= now.getTime() ? latest : undefined;
}

/**
 * Ticks a scheduler owes at `now`, given the last tick it started (null the first time): the newest
 * due tick, or with catchup every tick since the last one (at most maxCatchup, the newest).
 */
export function dueTicks(schedule: Schedule, last: Date | null, now: Date): Date[] {
  const cron = cronOf(schedule);
  const latest = latestTick(cron, now);
  if (!latest || (last && latest.getTime() <= last.getTime())) return [];
  if (!last || !schedule.catchup) return [latest];
  return ticksBetween(cron, last, now, schedule.maxCatchup ?? DEFAULT_MAX_CATCHUP);
}

/** Ticks t with from <= t < to: one run per interval of a backfill. */
export function backfillTicks(schedule: Schedule, from: Date, to: Date, max = MAX_BACKFILL_TICKS): Date[] {
  if (from.getTime() >= to.getTime()) {
    throw invalidArgument(
      'from',
      `${from.toISOString()} is not before to (${to.toISOString()})`,
      'send from < to',
    );
  }
  const cron = cronOf(schedule);
  const ticks = ticksBetween(
    cron,
    new Date(from.getTime() - 1000),
    new Date(to.getTime() - 1),
    MAX_BACKFILL_TICKS + 1,
  );
  if (ticks.length > max) {
    throw invalidArgument(
      'to',
      `the range spans more than ${max} ticks of ${JSON.stringify(schedule.cron)}`,
      'backfill a shorter range at a time',
    );
  }
  return ticks.filter((t) => t.getTime() >= from.getTime());
}
