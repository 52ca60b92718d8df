/**
 * Cron schedules as Kubernetes' CronJobs read them (robfig/cron's standard parser): five fields (minute, hour,
 * day of month, month, day of week) with lists, ranges, steps and names (JAN, SUN), the `@hourly`-style
 * descriptors, and a `CRON_TZ=` or `TZ=` prefix. Written here rather than taken from npm: the semantics that
 * matter (day-of-month OR day-of-week unless one is `*`, time zones from the runtime's own database through
 * Intl) are a few dozen lines, and the npm parsers differ from robfig in exactly those corners.
 */

type Field = { bits: Set<number>; star: boolean };

export type Schedule = {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
  /** IANA time zone the fields are read in. */
  timeZone: string;
};

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The time zone of this process (where cloudcore runs): CronJobs without spec.timeZone use it, as Kubernetes does. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseValue(s: string, min: number, max: number, names: string[] | undefined, offset: number): number {
  const upper = s.toUpperCase();
  const named = names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + offset : /^\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isInteger(n)) throw new Error(`failed to parse int from ${s}`);
  if (n < min || n > max) throw new Error(`${s} out of range [${min}, ${max}]`);
  return n;
}

function parseField(expr: string, min: number, max: number, names?: string[], nameOffset = 0): Field {
  const bits = new Set<number>();
  let star = false;
  for (const item of expr.split(',')) {
    const [range = '', stepText] = item.split('/');
    if (item.split('/').length > 2) throw new Error(`too many slashes: ${item}`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
      star = true;
    } else {
      const parts = range.split('-');
      if (parts.length > 2) throw new Error(`too many hyphens: ${range}`);
      lo = parseValue(parts[0] ?? '', min, max, names, nameOffset);
      hi = parts.length === 2 ? parseValue(parts[1] ?? '', min, max, names, nameOffset) : stepText === undefined ? lo : max;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw new Error(`step of range should be a positive number: ${item}`);
    if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}): ${item}`);
    for (let v = lo; v <= hi; v += step) bits.add(v);
  }
  return { bits, star };
}

/** Parses a CronJob's schedule; `timeZone` (spec.timeZone) wins over a `CRON_TZ=` prefix, which wins over the local zone. */
export function parseSchedule(text: string, timeZone?: string): Schedule | { error: string } {
  let spec = text.trim();
  let tz = timeZone;
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(spec);
  if (m !== null) {
    if (tz === undefined) tz = m[1];
    spec = m[2] ?? '';
  }
  tz ??= localTimeZone();
  if (!isValidTimeZone(tz)) return { error: `provided bad location ${tz}: unknown time zone ${tz}` };
  if (spec.startsWith('@')) {
    const d = DESCRIPTORS[spec.toLowerCase()];
    if (d === undefined) return { error: `unrecognized descriptor: ${spec}` };
    spec = d;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return { error: `expected exactly 5 fields, found ${fields.length}: ${text}` };
  try {
    return {
      minute: parseField(fields[0] ?? '', 0, 59),
      hour: parseField(fields[1] ?? '', 0, 23),
      dom: parseField(fields[2] ?? '', 1, 31),
      month: parseField(fields[3] ?? '', 1, 12, MONTHS, 1),
      dow: parseField(fields[4] ?? '', 0, 6, DAYS, 0),
      timeZone: tz,
    };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

type Wall = { month: number; day: number; hour: number; minute: number; dow: number };

function wallClock(ms: number, tz: string): Wall {
  let f = formats.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formats.set(tz, f);
  }
  const w: Wall = { month: 0, day: 0, hour: 0, minute: 0, dow: 0 };
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'month') w.month = Number(p.value);
    else if (p.type === 'day') w.day = Number(p.value);
    else if (p.type === 'hour') w.hour = Number(p.value);
    else if (p.type === 'minute') w.minute = Number(p.value);
    else if (p.type === 'weekday') w.dow = DAYS.indexOf(p.value.toUpperCase());
  }
  return w;
}

function dayMatches(s: Schedule, w: Wall): boolean {
  const dom = s.dom.bits.has(w.day);
  const dow = s.dow.bits.has(w.dow);
  return s.dom.star || s.dow.star ? dom && dow : dom || dow;
}

const MINUTE = 60_000;
/** Searched this far ahead (a Feb 29 schedule fires within 8 years); beyond, the schedule never fires. */
const HORIZON_MS = 8 * 366 * 24 * 3600_000;

/** The first time strictly after `afterMs` the schedule fires, or undefined if never. */
export function nextTime(s: Schedule, afterMs: number): number | undefined {
  let t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  const end = afterMs + HORIZON_MS;
  while (t <= end) {
    const w = wallClock(t, s.timeZone);
    if (!s.month.bits.has(w.month) || !dayMatches(s, w)) {
      // Towards the next wall-clock midnight, stopping an hour short: a DST day may be an hour shorter.
      const toMidnight = (23 - w.hour) * 60 + (60 - w.minute);
      t += Math.max(60 - w.minute, toMidnight - 60) * MINUTE;
      continue;
    }
    if (!s.hour.bits.has(w.hour)) {
      t += (60 - w.minute) * MINUTE; // to the next wall-clock hour
      continue;
    }
    if (!s.minute.bits.has(w.minute)) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}

/**
 * The latest schedule time in (earliestMs, nowMs] and how many there were (Kubernetes' mostRecentScheduleTime):
 * after a long stop only the latest missed run is started; `missed` above 100 earns a warning.
 */
export function mostRecentTime(s: Schedule, earliestMs: number, nowMs: number): { time?: number; missed: number } {
  let missed = 0;
  let last: number | undefined;
  let t = nextTime(s, earliestMs);
  while (t !== undefined && t <= nowMs) {
    missed++;
    last = t;
    if (missed > 100) break;
    t = nextTime(s, t);
  }
  if (missed <= 100) return last === undefined ? { missed } : { time: last, missed };
  // Too many to walk one by one: find the latest from windows closer to now, and count by the spacing.
  for (const back of [3600_000, 86_400_000, 31 * 86_400_000, 366 * 86_400_000, HORIZON_MS]) {
    let latest: number | undefined;
    for (let x = nextTime(s, Math.max(earliestMs, nowMs - back)); x !== undefined && x <= nowMs; x = nextTime(s, x)) latest = x;
    if (latest !== undefined) {
      const first = nextTime(s, earliestMs) ?? latest;
      const second = nextTime(s, first) ?? latest;
      const spacing = Math.max(MINUTE, second - first);
      return { time: latest, missed: Math.max(101, Math.floor((latest - first) / spacing) + 1) };
    }
  }
  return last === undefined ? { missed } : { time: last, missed };
}
