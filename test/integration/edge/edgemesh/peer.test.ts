// Two nodes' EdgeMesh proxy components on loopback with real TLS (certificates from a test CA, clientAuth-only
// as the cloud issues them): a Service whose endpoint is on the other node is reached over the direct peer link;
// with the direct link unreachable it goes through the cloud relay, and the node then learns the
// peer address from the relay's answer. A peer never dials what is not one of its endpoints.
// The relay is CloudStream's tunnel server and relay, started alone (test/helpers/mesh-relay.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { ProxyComponent } from '../../../../src/edge/edgemesh/proxy/component.ts';
import { dialTunnel } from '../../../../src/stream/index.ts';
import { type TestRelay, startTestRelay } from '../../../helpers/mesh-relay.ts';
import { certDerToPem, createCA, issueKeyPair, keyDerToPem } from '../../../../src/pki/x509.ts';
import { HandStore, endpoint, get, nameServer, webService } from '../../../helpers/mesh-store.ts';

const LO = '127.0.0.1';

let creds: Record<string, { ca: Buffer; cert: Buffer; key: Buffer }>;
let relay: TestRelay;
const stores = { a: new HandStore(), b: new HandStore() };
let a: ProxyComponent;
let b: ProxyComponent;
let pod: { port: number; close(): Promise<void> };
let bAddress: { host: string; port: number } | undefined;

before(async () => {
  const ca = await createCA('test-ca');
  creds = {};
  for (const n of ['edge-a', 'edge-b']) {
    const kp = await issueKeyPair(ca, { subject: `CN=system:node:${n}, O=system:nodes`, usages: ['clientAuth'], days: 1 });
    creds[n] = { ca: Buffer.from(certDerToPem(ca.certDer)), cert: Buffer.from(certDerToPem(kp.certDer)), key: Buffer.from(keyDerToPem(kp.keyDer)) };
  }
  relay = await startTestRelay(ca, ['127.0.0.1']);
  pod = await nameServer('web-on-b');
  // both nodes know the Service; its one endpoint is a pod on edge-b
  for (const s of [stores.a, stores.b]) s.set(webService({ meshIP: '9.251.0.7' }), [endpoint(LO, pod.port, 'edge-b')]);
  const mk = (node: string, store: HandStore, addresses: () => { host: string; port: number } | undefined) =>
    new ProxyComponent({
      store,
      nodeName: node,
      lbStrategy: 'RoundRobin',
      listenInterface: 'lo',
      listenIP: LO,
      listenPort: 0,
      peerBind: LO,
      advertiseIP: LO,
      creds: () => creds[node],
      addresses: (n) => (n === 'edge-b' ? addresses() : undefined),
      dialTunnel: () => dialTunnel({ url: relay.url, ...creds[node]!, nodeName: node, purpose: 'mesh' }),
      iptables: false,
    });
  a = mk('edge-a', stores.a, () => bAddress);
  b = mk('edge-b', stores.b, () => undefined);
  await b.start();
  await a.start();
  // the mesh tunnels are dialled by the components' own loop
  while (!a.tunnelConnected || !b.tunnelConnected) await new Promise((r) => setTimeout(r, 20));
});

after(async () => {
  await a.stop();
  await b.stop();
  await pod.close();
  await relay.close();
});

function listenerA(): number {
  const l = a.proxy.listener('default', 'web', 8080);
  assert.ok(l);
  return l.port;
}

test('a node whose address is unknown is relayed through the cloud; its answer tells the direct address for next time', async () => {
  bAddress = undefined;
  assert.equal(await get(LO, listenerA()), 'web-on-b');
  assert.equal(a.peers.stats.relayed, 1);
  assert.equal(relay.relayed, 1);
  assert.equal(b.relayStats.served, 1);
  assert.equal(await get(LO, listenerA()), 'web-on-b');
  assert.equal(a.peers.stats.direct, 1, 'the second connection went direct');
});

test('an endpoint on another node is reached over the direct mutual-TLS peer link', async () => {
  bAddress = { host: LO, port: b.peerPort }; // as configured or learnt
  assert.equal(await get(LO, listenerA()), 'web-on-b');
  assert.equal(a.peers.stats.direct, 2);
  assert.equal(b.server?.stats.served, 2);
});

test('when the direct link fails (as behind NAT) the connection is relayed', async () => {
  bAddress = { host: LO, port: 1 }; // nothing listens there
  assert.equal(await get(LO, listenerA()), 'web-on-b');
  assert.equal(a.peers.stats.relayed, 2);
  assert.equal(b.relayStats.served, 2);
});

test('a peer refuses a target that is not one of its endpoints, and a client without a CA-signed certificate', async () => {
  // straight to B's peer port with A's certificate, asking for something that is not a Service endpoint
  const s = tls.connect({ host: LO, port: b.peerPort, ...creds['edge-a']!, rejectUnauthorized: false });
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  s.write(`${JSON.stringify({ target: `${LO}:22`, protocol: 'tcp', from: 'edge-a' })}\n`);
  let answer = '';
  for await (const c of s) answer += String(c);
  assert.match(answer, /^ERR 127\.0\.0\.1:22 is not a ready endpoint on this node/);

  const stranger = await createCA('stranger');
  const kp = await issueKeyPair(stranger, { subject: 'CN=system:node:edge-a', usages: ['clientAuth'], days: 1 });
  const bad = tls.connect({
    host: LO,
    port: b.peerPort,
    ca: creds['edge-a']!.ca,
    cert: certDerToPem(kp.certDer),
    key: keyDerToPem(kp.keyDer),
    rejectUnauthorized: false,
  });
  const outcome = await new Promise<string>((r) => {
    bad.once('data', () => r('data'));
    bad.once('error', () => r('refused'));
    bad.once('close', () => r('refused'));
    bad.once('secureConnect', () => bad.write(`${JSON.stringify({ target: `${LO}:${pod.port}`, protocol: 'tcp' })}\n`));
  });
  assert.equal(outcome, 'refused');
});
