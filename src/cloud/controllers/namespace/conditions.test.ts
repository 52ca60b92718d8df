import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conditionsChanged, namespaceConditions } from './conditions.ts';

test('namespaceConditions: what remains and which finalizers hold it, as kube-controller-manager words the reasons', () => {
  const c = namespaceConditions(
    {
      remaining: new Map([
        ['pods.', 2],
        ['widgets.example.com', 1],
      ]),
      finalizers: new Map([['example.com/hold', 1]]),
      failures: [],
    },
    undefined,
  );
  const by = Object.fromEntries(c.map((x) => [x.type, x]));
  assert.equal(by['NamespaceContentRemaining']?.status, 'True');
  assert.equal(by['NamespaceContentRemaining']?.reason, 'SomeResourcesRemain');
  assert.equal(
    by['NamespaceContentRemaining']?.message,
    'Some resources are remaining: pods. has 2 resource instances, widgets.example.com has 1 resource instances',
  );
  assert.equal(by['NamespaceFinalizersRemaining']?.reason, 'SomeFinalizersRemain');
  assert.equal(by['NamespaceDeletionContentFailure']?.status, 'False');
});

test('namespaceConditions: a condition keeps its lastTransitionTime while its status holds; unchanged conditions need no write', () => {
  const s = { remaining: new Map([['pods.', 1]]), finalizers: new Map(), failures: [] };
  const first = namespaceConditions(s, undefined, new Date('2026-01-01T00:00:00Z'));
  const again = namespaceConditions(s, first, new Date('2026-01-01T00:05:00Z'));
  assert.deepEqual(again, first);
  assert.equal(conditionsChanged({ status: { conditions: first } }, again), false);
  const done = namespaceConditions({ remaining: new Map(), finalizers: new Map(), failures: [] }, first, new Date('2026-01-01T00:06:00Z'));
  assert.equal(done.find((x) => x.type === 'NamespaceContentRemaining')?.lastTransitionTime, '2026-01-01T00:06:00Z');
  assert.equal(conditionsChanged({ status: { conditions: first } }, done), true);
});
