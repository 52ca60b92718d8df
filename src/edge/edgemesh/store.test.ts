import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshIpam } from './ipam.ts';
import { MeshStore } from './store.ts';

const svc = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name, uid: `uid-${name}`, resourceVersion: '5' },
  spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 80 }], ...extra },
});
const slice = (name: string, service: string, eps: Array<{ ip: string; pod: string; node: string; ready?: boolean }>) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: eps.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready ?? true },
    nodeName: e.node,
    targetRef: { kind: 'Pod', namespace: 'default', name: e.pod },
  })),
});

function newStore(node = 'edge-1'): MeshStore {
  return new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: node });
}

test('a Service gets a meshIP in subNet that every node computes alike, and keeps it', () => {
  const a = newStore('edge-1');
  const b = newStore('edge-2');
  a.apply('service', 'insert', svc('web'));
  b.apply('service', 'insert', svc('other'));
  b.apply('service', 'insert', svc('web'));
  const ip = a.service('default', 'web')?.meshIP ?? '';
  assert.match(ip, /^9\.251\.\d+\.\d+$/);
  assert.equal(b.service('default', 'web')?.meshIP, ip);
  a.apply('service', 'delete', { metadata: { namespace: 'default', name: 'web' } });
  assert.equal(a.service('default', 'web'), undefined);
  a.apply('service', 'insert', svc('web'));
  assert.equal(a.service('default', 'web')?.meshIP, ip);
  assert.equal(a.service('default', 'web')?.clusterIP, '10.96.0.20');
  assert.deepEqual(a.service('default', 'web')?.ports, [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 80 }]);
});

test('headless Services get no meshIP; ClientIP affinity keeps its timeout', () => {
  const s = newStore();
  s.apply('service', 'insert', svc('db', { clusterIP: 'None' }));
  s.apply('service', 'insert', svc('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
  assert.equal(s.service('default', 'db')?.headless, true);
  assert.equal(s.service('default', 'db')?.meshIP, undefined);
  assert.equal(s.service('default', 'sticky')?.sessionAffinity, 'ClientIP');
  assert.equal(s.service('default', 'sticky')?.affinityTimeoutSeconds, 60);
});

test('endpoints come from EndpointSlices when there are any, else from Endpoints', () => {
  const s = newStore();
  const changes: string[] = [];
  s.on('change', (ns: string, name: string) => changes.push(`${ns}/${name}`));
  s.apply('service', 'insert', svc('web'));
  s.apply('endpoints', 'insert', {
    metadata: { namespace: 'default', name: 'web' },
    subsets: [
      { addresses: [{ ip: '172.17.0.9', nodeName: 'edge-1', targetRef: { kind: 'Pod', name: 'old' } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    ],
  });
  assert.deepEqual(
    s.endpoints('default', 'web').map((e) => e.ip),
    ['172.17.0.9'],
  );
  s.apply('endpointslice', 'insert', slice('web-a', 'web', [{ ip: '172.17.0.2', pod: 'web-1', node: 'edge-1' }]));
  s.apply('endpointslice', 'insert', slice('web-b', 'web', [{ ip: '172.17.0.3', pod: 'web-2', node: 'edge-2', ready: false }]));
  const eps = s.endpoints('default', 'web');
  assert.deepEqual(
    eps.map((e) => [e.ip, e.ready, e.nodeName]),
    [
      ['172.17.0.2', true, 'edge-1'],
      ['172.17.0.3', false, 'edge-2'],
    ],
  );
  assert.deepEqual(eps[0]?.ports, [{ name: 'http', port: 80, protocol: 'TCP' }]);
  s.apply('endpointslice', 'delete', { metadata: { namespace: 'default', name: 'web-a' } });
  s.apply('endpointslice', 'delete', { metadata: { namespace: 'default', name: 'web-b' } });
  assert.deepEqual(
    s.endpoints('default', 'web').map((e) => e.ip),
    ['172.17.0.9'],
  );
  assert.ok(changes.filter((c) => c === 'default/web').length >= 5);
});

test("this node's pod address as edged reports it wins over the cloud's copy; other nodes' pods are left alone", () => {
  const s = newStore('edge-1');
  s.apply('service', 'insert', svc('web'));
  s.apply(
    'endpointslice',
    'insert',
    slice('web-a', 'web', [
      { ip: '172.17.0.2', pod: 'web-1', node: 'edge-1' },
      { ip: '172.17.0.3', pod: 'web-1', node: 'edge-2' },
    ]),
  );
  const changed: string[] = [];
  s.on('change', (_ns: string, name: string) => changed.push(name));
  s.setLocalPod('default', 'web-1', { ip: '172.17.0.7', ready: true });
  assert.deepEqual(
    s.endpoints('default', 'web').map((e) => e.ip),
    ['172.17.0.7', '172.17.0.3'],
  );
  assert.deepEqual(changed, ['web']);
  s.setLocalPod('default', 'web-1', { ip: '172.17.0.7', ready: true });
  assert.deepEqual(changed, ['web'], 'no change, no event');
});

test('objects without metadata, or slices without their service label, are refused', () => {
  const s = newStore();
  assert.equal(s.apply('service', 'insert', { spec: {} }), false);
  assert.equal(s.apply('endpointslice', 'insert', { metadata: { namespace: 'default', name: 'x' } }), false);
  assert.equal(s.apply('service', 'insert', 'text'), false);
});

test('ipam: distinct services get distinct addresses, never the network or broadcast address; a full subnet throws', () => {
  const ipam = new MeshIpam('10.0.0.0/29');
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(ipam.allocate('ns', `s${i}`));
  assert.equal(got.size, 6);
  assert.ok(!got.has('10.0.0.0') && !got.has('10.0.0.7'));
  assert.throws(() => ipam.allocate('ns', 's6'), /no free address/);
  assert.equal(ipam.allocate('ns', 's3'), [...got][3]);
  assert.throws(() => new MeshIpam('not-a-cidr'), /not an IPv4 CIDR/);
});
