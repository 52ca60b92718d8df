import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mostRecentTime, nextTime, parseSchedule, type Schedule } from './schedule.ts';

function parse(s: string, tz = 'UTC'): Schedule {
  const r = parseSchedule(s, tz);
  if ('error' in r) throw new Error(r.error);
  return r;
}

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

test('every minute, steps, ranges, lists and names', () => {
  assert.equal(iso(nextTime(parse('*/1 * * * *'), at('2026-12-02T01:00:30Z'))), '2026-12-02T01:01:00.000Z');
  assert.equal(iso(nextTime(parse('*/15 * * * *'), at('2026-12-02T01:00:00Z'))), '2026-12-02T01:15:00.000Z');
  assert.equal(iso(nextTime(parse('5-10/5 2 * * *'), at('2026-12-02T02:05:00Z'))), '2026-12-02T02:10:00.000Z');
  assert.equal(iso(nextTime(parse('0 9 * JAN,jun MON-FRI'), at('2026-12-02T00:00:00Z'))), '2027-01-01T09:00:00.000Z');
  assert.equal(iso(nextTime(parse('30 4 29 2 *'), at('2026-03-01T00:00:00Z'))), '2028-02-29T04:30:00.000Z');
  assert.equal(iso(nextTime(parse('@hourly'), at('2026-12-02T01:00:00Z'))), '2026-12-02T02:00:00.000Z');
  assert.equal(iso(nextTime(parse('@weekly'), at('2026-12-02T01:00:00Z'))), '2026-12-06T00:00:00.000Z');
  assert.equal(iso(nextTime(parse('@yearly'), at('2026-12-02T01:00:00Z'))), '2027-01-01T00:00:00.000Z');
});

test('day of month and day of week: either when both are restricted, both when one is *', () => {
  // 2026-12-02 is a Wednesday. "1st of the month or a Friday" fires on Friday the 4th.
  assert.equal(iso(nextTime(parse('0 0 1 * FRI'), at('2026-12-02T00:00:00Z'))), '2026-12-04T00:00:00.000Z');
  // "*/2 days of month, but only Fridays" (a star in the dom field): both must hold.
  assert.equal(iso(nextTime(parse('0 0 */2 * 5'), at('2026-12-02T00:00:00Z'))), '2026-12-11T00:00:00.000Z');
});

test('time zones: spec.timeZone, CRON_TZ= prefix, and DST transitions', () => {
  // 09:00 in New York is 14:00 UTC in winter.
  assert.equal(iso(nextTime(parse('0 9 * * *', 'America/New_York'), at('2026-12-02T00:00:00Z'))), '2026-12-02T14:00:00.000Z');
  const r = parseSchedule('CRON_TZ=Asia/Kolkata 30 9 * * *');
  assert.ok(!('error' in r));
  assert.equal(r.timeZone, 'Asia/Kolkata');
  assert.equal(iso(nextTime(r, at('2026-12-02T00:00:00Z'))), '2026-12-02T04:00:00.000Z');
  // Spring forward in Berlin (2027-03-28 02:00 -> 03:00): a 02:30 schedule does not fire that day.
  assert.equal(iso(nextTime(parse('30 2 * * *', 'Europe/Berlin'), at('2027-03-27T12:00:00Z'))), '2027-03-29T00:30:00.000Z');
  assert.equal(iso(nextTime(parse('0 12 * * *', 'Europe/Berlin'), at('2027-03-28T00:00:00Z'))), '2027-03-28T10:00:00.000Z');
});

test('bad schedules and zones are errors with a reason, not exceptions', () => {
  for (const bad of ['* * * *', '60 * * * *', '* * * * 7', '*/0 * * * *', '5-1 * * * *', '@every 1m', 'a b c d e']) {
    const r = parseSchedule(bad, 'UTC');
    assert.ok('error' in r, bad);
  }
  const tz = parseSchedule('* * * * *', 'Mars/Olympus');
  assert.ok('error' in tz && /unknown time zone/.test(tz.error));
});

test('the most recent missed time: one catch-up run, missed runs counted, over 100 reported', () => {
  const s = parse('*/1 * * * *');
  assert.deepEqual(mostRecentTime(s, at('2026-12-02T01:00:00Z'), at('2026-12-02T01:00:59Z')), { missed: 0 });
  const few = mostRecentTime(s, at('2026-12-02T01:00:00Z'), at('2026-12-02T01:03:10Z'));
  assert.equal(iso(few.time), '2026-12-02T01:03:00.000Z');
  assert.equal(few.missed, 3);
  const many = mostRecentTime(s, at('2026-12-01T01:00:00Z'), at('2026-12-02T01:00:10Z'));
  assert.equal(iso(many.time), '2026-12-02T01:00:00.000Z');
  assert.ok(many.missed > 100);
  const daily = mostRecentTime(parse('@daily'), at('2026-01-01T00:00:00Z'), at('2026-12-02T05:00:00Z'));
  assert.equal(iso(daily.time), '2026-12-02T00:00:00.000Z');
  assert.ok(daily.missed > 100);
});

test('day skipping does not miss midnight after a short DST day, and a schedule that never fires has no next time', () => {
  // Europe/Berlin springs forward on 2027-03-28: the 29th's midnight must still fire.
  assert.equal(iso(nextTime(parse('0 0 29 3 *', 'Europe/Berlin'), at('2027-03-27T12:00:00Z'))), '2027-03-28T22:00:00.000Z');
  // America/New_York falls back on 2026-11-01 (a 25-hour day).
  assert.equal(iso(nextTime(parse('0 0 2 11 *', 'America/New_York'), at('2026-10-31T12:00:00Z'))), '2026-11-02T05:00:00.000Z');
  assert.equal(nextTime(parse('0 0 30 2 *'), at('2026-12-02T00:00:00Z')), undefined, 'February 30th never comes');
});
