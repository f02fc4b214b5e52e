/**
 * Time as a dependency: everything that depends on "now" (Monday/Friday jobs, release windows,
 * recency) takes a Clock, so tests run any day of the week.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at `iso` (tests, reproducible generation), movable with `set`/`advance`. */
export class FixedClock implements Clock {
  private t: number;
  constructor(iso: string | Date) {
    this.t = new Date(iso).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(iso: string | Date): void {
    this.t = new Date(iso).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * A clock that reads `start` at the moment it is made and then runs at real speed: the demo's
 * "today" is its world's clock (the world's listens end there), whatever day the demo runs.
 * @example new ShiftedClock('2026-11-20T12:00:00Z').now() // 2026-11-20T12:00:00Z, a second later …:01
 */
export class ShiftedClock implements Clock {
  private readonly offset: number;
  constructor(start: string | Date, private readonly real: () => number = Date.now) {
    this.offset = new Date(start).getTime() - real();
  }
  now(): Date {
    return new Date(this.real() + this.offset);
  }
}

export const DAY_MS = 86_400_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date and weekday of `at` in time zone `tz`: `{ date: '2026-11-23', weekday: 1 }` (0 = Sunday). */
export function localDate(at: Date, tz: string): { date: string; weekday: number; hour: number } {
  let fmt = formats.get(tz);
  if (!fmt) {
    // building a formatter costs ~0.5 ms (ICU); one per zone is kept (zones are few, users many)
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
    formats.set(tz, fmt);
  }
  const parts = fmt.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { date: `${get('year')}-${get('month')}-${get('day')}`, weekday, hour: Number(get('hour')) };
}

/** Add `days` to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) + days * DAY_MS;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * The date of the most recent `weekday` (0 = Sunday … 6 = Saturday) on or before `at`, in `tz`.
 * Discover Weekly's week is keyed by its Monday: `weekStart(now, 'Pacific/Auckland', 1)`.
 */
export function weekStart(at: Date, tz: string, weekday: number): string {
  const l = localDate(at, tz);
  return addDays(l.date, -((l.weekday - weekday + 7) % 7));
}

/**
 * The time a pipeline task stamps into the files it writes: the run's clock while the task runs
 * (set by the task runner), so a task re-run after a crash writes the same bytes; elsewhere now.
 */
export const stampTime = new AsyncLocalStorage<string>();

/** The instant (ISO) to record as a file's creation time: see {@link stampTime}. */
export function stampNow(): string {
  return stampTime.getStore() ?? new Date().toISOString();
}
