import { DurationError } from './errors.ts';

/** Milliseconds per unit of Go's time.ParseDuration. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  // Escaped: one non-ASCII character makes V8 hold the whole bundle's source as two-byte (2.3 MB more).
  '\u00b5s': 1e-3, // micro sign
  '\u03bcs': 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;

/**
 * Parses a Go duration string (`10s`, `1m`, `1h30m`, `1.5h`, `300ms`, `-2m`, `0`) into milliseconds, the way
 * kubelet fields such as `syncFrequency` are read. Throws DurationError for anything else.
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(s: string): number {
  if (typeof s !== 'string' || s === '') throw new DurationError(String(s), 'empty');
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationError(s, 'no number after the sign');
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (m === null) {
      const reason = /^\d/.test(rest) ? 'missing or unknown unit (use ns, us, ms, s, m or h)' : `unexpected ${JSON.stringify(rest)}`;
      throw new DurationError(s, reason);
    }
    const [whole, num, unit] = m as unknown as [string, string, string];
    total += Number(num) * (UNIT_MS[unit] ?? NaN);
    rest = rest.slice(whole.length);
  }
  if (!Number.isFinite(total)) throw new DurationError(s, 'out of range');
  return sign * total;
}

/** True when `s` parses as a Go duration. */
export function isDuration(s: string): boolean {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}
