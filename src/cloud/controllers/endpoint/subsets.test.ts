import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { desiredSubsets, sameSubsets } from './subsets.ts';

const svc: KubeObject = { metadata: { name: 'web', namespace: 'ns' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
const pod = (name: string, ip: string, ready: boolean, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: `u-${name}`, labels: { app: 'web' }, ...extra },
  spec: { nodeName: 'n1', containers: [{}] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

test('desiredSubsets: the same pods in another order give the same subsets, which compare equal to the stored ones', () => {
  const a = desiredSubsets(svc, [pod('x', '10.0.0.10', true), pod('y', '10.0.0.9', true), pod('z', '10.0.0.8', false)]);
  const b = desiredSubsets(svc, [pod('z', '10.0.0.8', false), pod('y', '10.0.0.9', true), pod('x', '10.0.0.10', true)]);
  assert.deepEqual(a, b);
  assert.deepEqual(
    a[0]?.addresses?.map((x) => x.ip),
    ['10.0.0.9', '10.0.0.10'],
  );
  assert.ok(sameSubsets(JSON.parse(JSON.stringify(a)), b));
  assert.equal(sameSubsets([], b), false);
});

test('desiredSubsets: pods without an IP, finished, being deleted or in another namespace are left out', () => {
  const out = desiredSubsets(svc, [
    pod('noip', '', true),
    { ...pod('done', '10.0.0.1', true), status: { phase: 'Succeeded', podIP: '10.0.0.1' } },
    pod('deleting', '10.0.0.2', true, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    { ...pod('elsewhere', '10.0.0.3', true), metadata: { name: 'elsewhere', namespace: 'other', labels: { app: 'web' } } },
  ]);
  assert.deepEqual(out, []);
});
