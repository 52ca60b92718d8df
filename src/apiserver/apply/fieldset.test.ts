import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldSetOf, fromFieldsV1, pathString, toFieldsV1 } from './fieldset.ts';
import { stampManagedFields } from './managed.ts';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { app: 'web' }, finalizers: ['x/y'] },
  spec: {
    nodeSelector: { zone: 'a' },
    containers: [{ name: 'c', image: 'nginx', args: ['-g', 'daemon off;'], ports: [{ containerPort: 80 }] }],
  },
  status: { phase: 'Pending' },
};

test('field sets: associative lists by key (defaulted protocol), sets, atomic lists and maps; identity metadata unowned', () => {
  const set = fieldSetOf(pod, 'main');
  const fields = toFieldsV1(set.keys());
  assert.deepEqual(fields, {
    'f:metadata': { 'f:finalizers': { 'v:"x/y"': {} }, 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:containers': {
        'k:{"name":"c"}': {
          '.': {},
          'f:args': {},
          'f:image': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
        },
      },
      'f:nodeSelector': {},
    },
  });
  assert.deepEqual(new Set(set.keys()), fromFieldsV1(fields));
  assert.ok(!fieldSetOf(pod, 'status').has('f:spec'));
  assert.deepEqual([...fieldSetOf(pod, 'status').keys()], ['f:status\nf:phase']);
  assert.equal(pathString('f:spec\nf:containers\nk:{"name":"c"}\nf:image'), '.spec.containers[name="c"].image');
});

test('an update owns what it changed and takes it from other managers; a no-op keeps managedFields untouched', () => {
  const cur: Record<string, any> = structuredClone(pod);
  stampManagedFields(undefined, cur, 'v1', true, { manager: 'a', operation: 'Update' });
  assert.equal(cur['metadata']['managedFields'].length, 1);
  const next = structuredClone(cur);
  next['spec']['containers'][0]['image'] = 'nginx:2';
  next['metadata']['labels']['tier'] = 'x';
  stampManagedFields(cur, next, 'v1', true, { manager: 'b', operation: 'Update' });
  const [a, b] = next['metadata']['managedFields'];
  assert.equal(a.manager, 'a');
  assert.equal(a.fieldsV1['f:spec']['f:containers']['k:{"name":"c"}']['f:image'], undefined);
  assert.deepEqual(b.fieldsV1, {
    'f:metadata': { 'f:labels': { 'f:tier': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } },
  });
  const same = structuredClone(next);
  stampManagedFields(next, same, 'v1', true, { manager: 'c', operation: 'Update' });
  assert.deepEqual(same['metadata']['managedFields'], next['metadata']['managedFields']);
});

test('list types declared by a schema (a CRD) win over the built-in table', () => {
  const o = { spec: { items: [{ id: 1, v: 'a' }], containers: [{ name: 'c', image: 'x' }], tags: ['a', 'b'] } };
  const set = fieldSetOf(o, 'all', {
    'spec.items': { type: 'map', keys: ['id'] },
    'spec.containers': { type: 'atomic' },
    'spec.tags': { type: 'set' },
  });
  assert.deepEqual(toFieldsV1(set.keys()), {
    'f:spec': { 'f:containers': {}, 'f:items': { 'k:{"id":1}': { '.': {}, 'f:id': {}, 'f:v': {} } }, 'f:tags': { 'v:"a"': {}, 'v:"b"': {} } },
  });
});
