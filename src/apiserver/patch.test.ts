import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';

test('strategic merge: containers by name, env by name, ports by containerPort, conditions by type', () => {
  const orig = {
    spec: {
      containers: [
        { name: 'a', image: 'x:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80, name: 'http' }] },
        { name: 'b', image: 'y:1' },
      ],
    },
    status: {
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'PodScheduled', status: 'True' },
      ],
    },
  };
  const out = strategicMerge(orig, {
    $setElementOrder: { containers: [{ name: 'a' }] },
    spec: { containers: [{ name: 'a', image: 'x:2', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  }) as typeof orig;
  assert.deepEqual(
    out.spec.containers.map((c) => c.name),
    ['a', 'b'],
  );
  assert.equal(out.spec.containers[0]?.image, 'x:2');
  assert.deepEqual(
    out.spec.containers[0]?.env?.map((e) => e.name),
    ['A', 'B'],
  );
  assert.deepEqual(
    out.spec.containers[0]?.ports?.map((p) => p.containerPort),
    [80, 443],
  );
  assert.deepEqual(out.status.conditions, [
    { type: 'Ready', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ]);
});

test('strategic merge: $patch delete removes a list element or a map, null deletes a key, $retainKeys ignored', () => {
  const orig = {
    spec: {
      taints: [
        { key: 'k1', effect: 'NoSchedule' },
        { key: 'k2', effect: 'NoExecute' },
      ],
      extra: { a: 1 },
      keep: 1,
    },
  };
  const out = strategicMerge(orig, { spec: { taints: [{ key: 'k1', $patch: 'delete' }], extra: { $patch: 'delete' }, keep: null, $retainKeys: ['taints'] } });
  assert.deepEqual(out, { spec: { taints: [{ key: 'k2', effect: 'NoExecute' }] } });
});

test('strategic merge: lists without a merge key are replaced; finalizers merge as a set and $deleteFromPrimitiveList removes', () => {
  const orig = { metadata: { finalizers: ['a', 'b'] }, spec: { args: ['x', 'y'] } };
  const out = strategicMerge(orig, { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] }, spec: { args: ['z'] } });
  assert.deepEqual(out, { metadata: { finalizers: ['b', 'c'] }, spec: { args: ['z'] } });
});

test('merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null }, l: [3] }), { a: { c: 2 }, l: [3] });
  const doc = { metadata: { labels: { a: '1' } }, list: [1, 2] };
  const out = jsonPatch(doc, [
    { op: 'add', path: '/metadata/labels/b~1c', value: '2' },
    { op: 'remove', path: '/metadata/labels/a' },
    { op: 'add', path: '/list/-', value: 3 },
    { op: 'replace', path: '/list/0', value: 0 },
    { op: 'test', path: '/list/2', value: 3 },
  ]);
  assert.deepEqual(out, { metadata: { labels: { 'b/c': '2' } }, list: [0, 2, 3] });
  assert.deepEqual(doc.list, [1, 2], 'input untouched');
  assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }]), /test failed/);
  assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope/x' }]), /does not exist/);
});
