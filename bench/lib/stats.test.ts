import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmt, percentile, rate, summarize } from './stats.ts';

test('nearest-rank percentiles of 1..100 are the values themselves', () => {
  const v = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 90), 90);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 100), 100);
  assert.equal(percentile(v, 0), 1);
});

test('p99 of a small sample is its maximum, p50 of two values is the lower one', () => {
  assert.equal(percentile([5, 1, 9], 99), 9);
  assert.equal(percentile([10, 20], 50), 10);
});

test('summary ignores non-finite values and reports how many it used', () => {
  const s = summarize([3, Number.NaN, 1, 2, Number.POSITIVE_INFINITY]);
  assert.equal(s.n, 3);
  assert.equal(s.min, 1);
  assert.equal(s.max, 3);
  assert.equal(s.mean, 2);
  assert.equal(s.p50, 2);
});

test('an empty sample gives NaN, printed as "-"', () => {
  const s = summarize([]);
  assert.equal(s.n, 0);
  assert.ok(Number.isNaN(s.p99));
  assert.equal(fmt(s.p99), '-');
});

test('rate is per second and NaN over an empty span', () => {
  assert.equal(rate(500, 2000), 250);
  assert.ok(Number.isNaN(rate(5, 0)));
  assert.equal(fmt(2.345, 2), '2.35');
  assert.equal(fmt(7), '7');
});
