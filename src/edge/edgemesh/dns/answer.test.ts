import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import { MeshIpam } from '../ipam.ts';
import { MeshStore } from '../store.ts';
import { resolve } from './answer.ts';

function store(): MeshStore {
  const s = new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: 'edge-1' });
  s.apply('service', 'insert', {
    metadata: { namespace: 'default', name: 'web', uid: 'u1' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  });
  s.apply('service', 'insert', {
    metadata: { namespace: 'default', name: 'db', uid: 'u2' },
    spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
  });
  s.apply('endpointslice', 'insert', {
    metadata: { namespace: 'default', name: 'db-x', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5433, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['172.17.0.5'], conditions: { ready: true }, nodeName: 'edge-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-0' } },
      { addresses: ['172.17.0.6'], conditions: { ready: true }, nodeName: 'edge-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-1' } },
      { addresses: ['172.17.0.7'], conditions: { ready: false }, nodeName: 'edge-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-2' } },
    ],
  });
  return s;
}

/** A query as a resolver puts it on the wire, decoded as the server receives it. */
function ask(name: string, type: RecordType = 'A'): DecodedPacket {
  return decode(encode({ type: 'query', id: 4242, flags: 1 << 8, questions: [{ type, name, class: 'IN' }] }));
}

function run(s: MeshStore, name: string, type: RecordType = 'A') {
  const r = resolve(ask(name, type), s, 'cluster.local');
  if (r.kind === 'forward') return 'forward' as const;
  // Through the wire and back, as the client sees it.
  const p = decode(encode(r.packet));
  return { rcode: (p as { rcode?: string }).rcode, id: p.id, aa: p.flag_aa, answers: p.answers ?? [], additionals: p.additionals ?? [] };
}

const data = (as: Answer[]) => as.map((a) => ('data' in a ? a.data : undefined));

test('<svc>.<ns>.svc.<domain> answers the meshIP, authoritatively, with the query id', () => {
  const s = store();
  const meshIP = s.service('default', 'web')?.meshIP;
  const r = run(s, 'web.default.svc.cluster.local');
  assert.notEqual(r, 'forward');
  if (r === 'forward') return;
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.id, 4242);
  assert.equal(r.aa, true);
  assert.deepEqual(data(r.answers), [meshIP]);
  // case and a trailing dot do not matter
  const upper = run(s, 'WEB.Default.svc.cluster.local.');
  assert.ok(upper !== 'forward' && data(upper.answers)[0] === meshIP);
});

test('the short <svc>.<ns> of KubeEdge EdgeMesh answers; an unknown two-label name goes upstream', () => {
  const s = store();
  const r = run(s, 'web.default');
  assert.ok(r !== 'forward');
  assert.deepEqual(data(r.answers), [s.service('default', 'web')?.meshIP]);
  assert.equal(run(s, 'example.com'), 'forward');
  assert.equal(run(s, 'www.example.org'), 'forward');
});

test('NXDOMAIN for names that do not exist in the cluster domain, NOERROR without answers for other types', () => {
  const s = store();
  const nx = run(s, 'nosuch.default.svc.cluster.local');
  assert.ok(nx !== 'forward');
  assert.equal(nx.rcode, 'NXDOMAIN');
  // What a search path produces first (`web.default` + `default.svc.cluster.local`)
  const searched = run(s, 'web.default.default.svc.cluster.local');
  assert.ok(searched !== 'forward');
  assert.equal(searched.rcode, 'NXDOMAIN');
  const aaaa = run(s, 'web.default.svc.cluster.local', 'AAAA');
  assert.ok(aaaa !== 'forward');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.deepEqual(aaaa.answers, []);
  const nsName = run(s, 'default.svc.cluster.local');
  assert.ok(nsName !== 'forward' && nsName.rcode === 'NOERROR');
  const otherNs = run(s, 'kube-system.svc.cluster.local');
  assert.ok(otherNs !== 'forward' && otherNs.rcode === 'NXDOMAIN');
});

test('headless Services answer the ready pods, each also under its dashed address', () => {
  const s = store();
  const r = run(s, 'db.default.svc.cluster.local');
  assert.ok(r !== 'forward');
  assert.deepEqual(data(r.answers).sort(), ['172.17.0.5', '172.17.0.6']);
  const pod = run(s, '172-17-0-6.db.default.svc.cluster.local');
  assert.ok(pod !== 'forward');
  assert.deepEqual(data(pod.answers), ['172.17.0.6']);
  const notReady = run(s, '172-17-0-7.db.default.svc.cluster.local');
  assert.ok(notReady !== 'forward' && notReady.rcode === 'NXDOMAIN');
});

test('SRV for named ports: the Service name for a ClusterIP Service, each pod and its port for a headless one', () => {
  const s = store();
  const r = run(s, '_http._tcp.web.default.svc.cluster.local', 'SRV');
  assert.ok(r !== 'forward');
  assert.deepEqual(data(r.answers), [{ priority: 0, weight: 100, port: 8080, target: 'web.default.svc.cluster.local' }]);
  assert.deepEqual(data(r.additionals), [s.service('default', 'web')?.meshIP]);
  const h = run(s, '_pg._tcp.db.default.svc.cluster.local', 'SRV');
  assert.ok(h !== 'forward');
  assert.deepEqual(
    data(h.answers)
      .map((d) => `${(d as { target: string; port: number }).target}:${(d as { port: number }).port}`)
      .sort(),
    ['172-17-0-5.db.default.svc.cluster.local:5433', '172-17-0-6.db.default.svc.cluster.local:5433'],
  );
  const wrongProto = run(s, '_http._udp.web.default.svc.cluster.local', 'SRV');
  assert.ok(wrongProto !== 'forward' && wrongProto.rcode === 'NXDOMAIN');
});

test('a deleted Service stops resolving; its endpoints leaving empties a headless answer', () => {
  const s = store();
  s.apply('service', 'delete', { metadata: { namespace: 'default', name: 'web' } });
  const r = run(s, 'web.default.svc.cluster.local');
  assert.ok(r !== 'forward' && r.rcode === 'NXDOMAIN');
  s.apply('endpointslice', 'delete', { metadata: { namespace: 'default', name: 'db-x' } });
  const h = run(s, 'db.default.svc.cluster.local');
  assert.ok(h !== 'forward' && h.rcode === 'NOERROR');
  assert.deepEqual(h.answers, []);
});

test('an ExternalName Service is a CNAME to its name; other types are chased upstream', () => {
  const s = store();
  s.apply('service', 'insert', { metadata: { namespace: 'default', name: 'ext', uid: 'u3' }, spec: { type: 'ExternalName', externalName: 'Example.Test.' } });
  assert.equal(s.service('default', 'ext')?.meshIP, undefined);
  const c = run(s, 'ext.default.svc.cluster.local', 'CNAME');
  assert.ok(c !== 'forward');
  assert.deepEqual(data(c.answers), ['example.test']);
  const r = resolve(ask('ext.default.svc.cluster.local'), s, 'cluster.local');
  assert.equal(r.kind, 'chase');
  assert.equal(r.kind === 'chase' ? r.target : '', 'example.test');
});
