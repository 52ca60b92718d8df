import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { desiredSlices, planSlices, sliceLabels } from './slices.ts';

const svc: KubeObject = {
  metadata: { name: 'web', namespace: 'ns' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};
const pod = (name: string, ip: string, port: number, ready = true): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: `u-${name}`, labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ ports: [{ name: 'http', containerPort: port }] }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const stored = (name: string, content: ReturnType<typeof desiredSlices>[number]): KubeObject => ({
  metadata: { name, namespace: 'ns', labels: sliceLabels(svc), resourceVersion: '7' },
  addressType: 'IPv4',
  endpoints: content.endpoints,
  ports: content.ports,
});

test('planSlices: slices already holding what is wanted plan no write', () => {
  const want = desiredSlices(svc, [pod('a', '10.0.0.2', 8080), pod('b', '10.0.0.1', 8080)]);
  const existing = want.map((w, i) => stored(`web-${i}`, w));
  assert.deepEqual(planSlices(existing, desiredSlices(svc, [pod('b', '10.0.0.1', 8080), pod('a', '10.0.0.2', 8080)]), sliceLabels(svc)), {
    create: [],
    update: [],
    remove: [],
  });
});

test('planSlices: a changed endpoint rewrites the slice with its ports; pods on other ports get their own slice', () => {
  const existing = desiredSlices(svc, [pod('a', '10.0.0.1', 8080)]).map((w, i) => stored(`web-${i}`, w));
  const plan = planSlices(existing, desiredSlices(svc, [pod('a', '10.0.0.1', 8080, false), pod('c', '10.0.0.3', 9090)]), sliceLabels(svc));
  assert.equal(plan.update.length, 1);
  assert.equal(plan.update[0]?.slice.metadata?.name, 'web-0');
  assert.equal(plan.update[0]?.content.ports[0]?.port, 8080);
  assert.equal(plan.create.length, 1);
  assert.equal(plan.create[0]?.ports[0]?.port, 9090);
  assert.equal(plan.remove.length, 0);
});

test('desiredSlices: at most 100 endpoints a slice, an empty service keeps one empty slice', () => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`, 8080));
  assert.deepEqual(
    desiredSlices(svc, pods).map((s) => s.endpoints.length),
    [100, 100, 50],
  );
  assert.deepEqual(desiredSlices(svc, []), [{ ports: [], endpoints: [] }]);
});
