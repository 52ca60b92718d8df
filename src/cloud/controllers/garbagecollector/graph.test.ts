import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, OwnerGraph, type OwnerState } from './graph.ts';

const dep = (uids: string[], finalizers?: string[]) => ({
  metadata: {
    name: 'd',
    uid: 'd1',
    ownerReferences: uids.map((uid) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid })),
    ...(finalizers ? { finalizers } : {}),
  },
});
const states = (e: Record<string, OwnerState>) => new Map(Object.entries(e));

test('decide: a dependent with a solid owner stays, references to gone owners are dropped', () => {
  assert.deepEqual(decide(dep(['a']), states({ a: 'solid' }), false), { action: 'keep' });
  assert.deepEqual(decide(dep(['a', 'b', 'c']), states({ a: 'solid', b: 'dangling', c: 'waiting' }), false), { action: 'dropRefs', uids: ['b', 'c'] });
});

test('decide: every owner gone deletes in background; an owner waiting and dependents of its own make it foreground', () => {
  assert.deepEqual(decide(dep(['a', 'b']), states({ a: 'dangling', b: 'dangling' }), false), { action: 'delete', policy: 'Background' });
  assert.deepEqual(decide(dep(['a']), states({ a: 'waiting' }), true), { action: 'delete', policy: 'Foreground' });
  assert.deepEqual(decide(dep(['a']), states({ a: 'waiting' }), false), { action: 'delete', policy: 'Background' });
  assert.deepEqual(decide(dep(['a'], ['orphan']), states({ a: 'dangling' }), false), { action: 'delete', policy: undefined });
});

test('decide: an owner of a kind that cannot be resolved keeps the dependent', () => {
  assert.deepEqual(decide(dep(['a', 'b']), states({ a: 'unknown', b: 'dangling' }), false), { action: 'keep' });
});

test('OwnerGraph: dependents follow ownerReferences as they change', () => {
  const g = new OwnerGraph();
  g.set('k', dep(['a']));
  assert.deepEqual(
    g.dependents('a').map((n) => n.key),
    ['k'],
  );
  g.set('k', dep(['b']));
  assert.deepEqual(g.dependents('a'), []);
  assert.deepEqual(
    g.dependents('b').map((n) => n.key),
    ['k'],
  );
  g.remove(dep(['b']));
  assert.deepEqual(g.dependents('b'), []);
});
