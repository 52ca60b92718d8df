import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureBackoffMs, formatIndexes, parseIndexes, setCondition } from './conditions.ts';

test('completedIndexes are written as Kubernetes writes them (ranges) and read back', () => {
  assert.equal(formatIndexes([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.equal(formatIndexes([]), '');
  assert.deepEqual([...parseIndexes('0-2,5,7-8')], [0, 1, 2, 5, 7, 8]);
  assert.deepEqual([...parseIndexes('')], []);
});

test('pod failure backoff is 10 s doubling, capped at 6 minutes', () => {
  assert.equal(failureBackoffMs(0), 0);
  assert.equal(failureBackoffMs(1), 10_000);
  assert.equal(failureBackoffMs(2), 20_000);
  assert.equal(failureBackoffMs(6), 320_000);
  assert.equal(failureBackoffMs(7), 360_000);
  assert.equal(failureBackoffMs(30), 360_000);
});

test('a condition set again unchanged keeps its transition time; a changed status moves it', () => {
  const a = setCondition([], 'Suspended', 'True', 'JobSuspended', 'Job suspended', 't1');
  assert.equal(setCondition(a, 'Suspended', 'True', 'JobSuspended', 'Job suspended', 't2'), a);
  const b = setCondition(a, 'Suspended', 'False', 'JobResumed', 'Job resumed', 't3');
  assert.equal(b.length, 1);
  assert.equal(b[0]?.lastTransitionTime, 't3');
});
