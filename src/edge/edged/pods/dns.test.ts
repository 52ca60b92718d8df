import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podDns } from './dns.ts';
import type { Pod } from './types.ts';

const cluster = { servers: ['10.250.0.1'], domain: 'cluster.local' };
const pod = (spec: Partial<Pod['spec']> = {}, ns = 'shop'): Pod => ({ metadata: { name: 'p', namespace: ns, uid: 'u1' }, spec: { containers: [], ...spec } });

test('ClusterFirst (the default): the cluster resolver, the namespace search path and ndots:5', () => {
  assert.deepEqual(podDns(pod(), cluster), {
    servers: ['10.250.0.1'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: ['ndots:5'],
  });
  assert.deepEqual(podDns(pod({ dnsPolicy: 'ClusterFirst' }), cluster)?.servers, ['10.250.0.1']);
});

test('ClusterFirst on the host network and without a cluster DNS falls back to the engine (Default)', () => {
  assert.equal(podDns(pod({ hostNetwork: true }), cluster), undefined);
  assert.equal(podDns(pod(), { servers: [], domain: 'cluster.local' }), undefined);
  assert.equal(podDns(pod(), undefined), undefined);
  assert.equal(podDns(pod({ dnsPolicy: 'Default' }), cluster), undefined);
});

test('ClusterFirstWithHostNet keeps the cluster DNS on the host network', () => {
  assert.deepEqual(podDns(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster)?.servers, ['10.250.0.1']);
});

test('None takes dnsConfig alone; dnsConfig merges into ClusterFirst (servers appended, options by name)', () => {
  const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
  assert.deepEqual(podDns(pod({ dnsPolicy: 'None', dnsConfig }), cluster), {
    servers: ['1.1.1.1'],
    searches: ['corp.example'],
    options: ['ndots:2', 'edns0'],
  });
  assert.deepEqual(podDns(pod({ dnsConfig }), cluster), {
    servers: ['10.250.0.1', '1.1.1.1'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
    options: ['ndots:2', 'edns0'],
  });
});
