import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './duration.ts';
import { DurationError } from './errors.ts';

test('parseDuration reads Go durations into milliseconds', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('1m0s'), 60_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('-2m'), -120_000);
  assert.equal(parseDuration('1500us'), 1.5);
});

test('parseDuration rejects what Go rejects, with a typed error', () => {
  for (const bad of ['', '10', '1x', 's', '1h 30m', 'abc', '-', '1.5.5s', 'PT10S']) {
    assert.throws(
      () => parseDuration(bad),
      (e: unknown) => e instanceof DurationError && e.code === 'KE_INVALID_DURATION' && e.input === bad,
      bad,
    );
  }
});
