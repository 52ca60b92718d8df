import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { CloudStream } from '../../../../src/cloud/cloudstream/cloudstream.ts';
import { EdgeStream } from '../../../../src/edge/edgestream/edgestream.ts';
import { certDerToPem, createCA, issueKeyPair, type KeyPairDer, keyDerToPem } from '../../../../src/pki/x509.ts';
import type { StreamResetError } from '../../../../src/stream/index.ts';

const log = pino({ level: 'silent' });
let ca: KeyPairDer;
let cloud: CloudStream;
let fakeKubelet: Server;
const edges: EdgeStream[] = [];

async function startEdge(node: string, kubeletPort: number): Promise<EdgeStream> {
  const c = await issueKeyPair(ca, { subject: `CN=system:node:${node}, O=system:nodes`, usages: ['clientAuth'], days: 1 });
  const tls = { caPem: certDerToPem(ca.certDer), certPem: certDerToPem(c.certDer), keyPem: keyDerToPem(c.keyDer) };
  const e = new EdgeStream({
    enable: true,
    server: `127.0.0.1:${cloud.tunnelAddress?.port}`,
    nodeName: node,
    internalIP: '10.9.9.9',
    kubeletPort,
    handshakeTimeoutSec: 5,
    readDeadlineSec: 15,
    tls: async () => tls,
    backoff: { initialMs: 100, maxMs: 500 },
    log,
  });
  await e.start({} as never);
  edges.push(e);
  return e;
}

const waitUntil = async (ok: () => boolean): Promise<void> => {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
};

before(async () => {
  ca = await createCA();
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  cloud = new CloudStream({
    enabled: true,
    tunnel: { address: '127.0.0.1', port: 0, caPem: certDerToPem(ca.certDer), certPem: certDerToPem(server.certDer), keyPem: keyDerToPem(server.keyDer), ca },
    log,
  });
  await cloud.start({} as never);
  // A fake kubelet: answers with the path it was asked for.
  fakeKubelet = createServer((req, res) => res.end(`fake kubelet: ${req.method} ${req.url}`));
  fakeKubelet.listen(0, '127.0.0.1');
  await once(fakeKubelet, 'listening');
});

after(async () => {
  for (const e of edges) await e.stop();
  await cloud.stop();
  fakeKubelet.close();
});

test('EdgeStream dials out and serves kubelet streams from its loopback kubelet API (fake kubelet)', async () => {
  const port = (fakeKubelet.address() as AddressInfo).port;
  await startEdge('edge-a', port);
  await waitUntil(() => cloud.registry.get('edge-a', 'kubelet') !== undefined);
  assert.equal(cloud.registry.byAddress('10.9.9.9')?.node, 'edge-a', 'the node is found by its SessionInternalIP');
  const s = cloud.registry.get('edge-a', 'kubelet')?.session.open({ kind: 'kubelet', node: 'edge-a' });
  assert.ok(s);
  s.end('GET /containerLogs/default/web/app HTTP/1.1\r\nHost: edge-a\r\nConnection: close\r\n\r\n');
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  assert.match(Buffer.concat(parts).toString(), /fake kubelet: GET \/containerLogs\/default\/web\/app/);
});

test("edge B's tunnel cannot be used to reach edge A's pods: B refuses a stream meant for A", async () => {
  const port = (fakeKubelet.address() as AddressInfo).port;
  const b = await startEdge('edge-b', port);
  await waitUntil(() => cloud.registry.get('edge-b', 'kubelet') !== undefined);
  const s = cloud.registry.get('edge-b', 'kubelet')?.session.open({ kind: 'kubelet', node: 'edge-a' });
  assert.ok(s);
  s.end('GET /containerLogs/default/web/app HTTP/1.1\r\nHost: edge-a\r\n\r\n');
  const [err] = (await once(s, 'error')) as [StreamResetError];
  assert.equal(err.reason, "this tunnel is node edge-b's, not edge-a's");
  assert.equal(b.stats.refused, 1);
});

test('EdgeStream redials after the cloud drops its tunnel', async () => {
  const port = (fakeKubelet.address() as AddressInfo).port;
  const e = await startEdge('edge-c', port);
  await waitUntil(() => e.stats.connects === 1 && cloud.registry.get('edge-c', 'kubelet') !== undefined);
  cloud.registry.get('edge-c', 'kubelet')?.session.close(1001, 'test drops it');
  await waitUntil(() => e.stats.connects === 2 && cloud.registry.get('edge-c', 'kubelet')?.session.closed === false);
  assert.equal(e.connected, true);
});
