import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from './queue.ts';

test('a key added many times waits once, and one being worked on is not handed out twice', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  q.add('a'); // changed while being worked on
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
  q.done('a');
  assert.equal(await q.get(), 'a', 'handed out again after done because it was added meanwhile');
  q.done('a');
  q.done('b');
  assert.equal(q.length, 0);
});

test('retry backs off exponentially until forget', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 35 });
  assert.equal(q.retry('k'), 10);
  assert.equal(q.retry('k'), 20);
  assert.equal(q.retry('k'), 35);
  q.forget('k');
  assert.equal(q.retry('k'), 10);
  q.shutdown();
});

test('addAfter delivers later; shutdown releases waiting workers', async () => {
  const q = new WorkQueue();
  q.addAfter('late', 20);
  assert.equal(q.length, 0);
  assert.equal(await q.get(), 'late');
  const waiting = q.get();
  q.shutdown();
  assert.equal(await waiting, undefined);
});
