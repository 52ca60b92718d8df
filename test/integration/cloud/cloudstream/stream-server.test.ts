import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { CloudStream } from '../../../../src/cloud/cloudstream/cloudstream.ts';
import { EdgeStream } from '../../../../src/edge/edgestream/edgestream.ts';
import { certDerToPem, createCA, issueKeyPair, type KeyPairDer, keyDerToPem } from '../../../../src/pki/x509.ts';

// The real-cluster path: what the kube-apiserver believes is node 10.9.8.7's kubelet is CloudStream's stream
// server, which lets in only clients of the stream CA and routes by Host to the node with that InternalIP.
const log = pino({ level: 'silent' });
let cloud: CloudStream;
let edge: EdgeStream;
let fakeKubelet: Server;
let streamCa: KeyPairDer;
let apiserverClient: KeyPairDer;
let otherClient: KeyPairDer;

before(async () => {
  const ca = await createCA();
  streamCa = await createCA('stream-ca');
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  apiserverClient = await issueKeyPair(streamCa, { subject: 'CN=kube-apiserver-kubelet-client, O=system:masters', usages: ['clientAuth'], days: 1 });
  otherClient = await issueKeyPair(ca, { subject: 'CN=system:node:edge-z, O=system:nodes', usages: ['clientAuth'], days: 1 });
  const nodeCert = await issueKeyPair(ca, { subject: 'CN=system:node:edge-s, O=system:nodes', usages: ['clientAuth'], days: 1 });
  fakeKubelet = createServer((req, res) => res.end(`fake kubelet: ${req.url}`));
  fakeKubelet.listen(0, '127.0.0.1');
  await once(fakeKubelet, 'listening');
  const pem = (k: KeyPairDer) => ({ certPem: certDerToPem(k.certDer), keyPem: keyDerToPem(k.keyDer) });
  cloud = new CloudStream({
    enabled: true,
    tunnel: { address: '127.0.0.1', port: 0, caPem: certDerToPem(ca.certDer), ...pem(server), ca },
    stream: { address: '127.0.0.1', port: 0, clientCaPem: certDerToPem(streamCa.certDer), ...pem(server) },
    log,
  });
  await cloud.start({} as never);
  edge = new EdgeStream({
    enable: true,
    server: `127.0.0.1:${cloud.tunnelAddress?.port}`,
    nodeName: 'edge-s',
    internalIP: '10.9.8.7',
    kubeletPort: (fakeKubelet.address() as AddressInfo).port,
    handshakeTimeoutSec: 5,
    readDeadlineSec: 15,
    tls: async () => ({ caPem: certDerToPem(ca.certDer), ...pem(nodeCert) }),
    log,
  });
  await edge.start({} as never);
  while (cloud.registry.get('edge-s', 'kubelet') === undefined) await new Promise((r) => setTimeout(r, 20));
});

after(async () => {
  await edge.stop();
  await cloud.stop();
  fakeKubelet.close();
});

function get(host: string, client: KeyPairDer | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cloud.streamAddress?.port,
        path: '/containerLogs/default/web/app?tailLines=5',
        headers: { host },
        rejectUnauthorized: false,
        ...(client === undefined ? {} : { cert: certDerToPem(client.certDer), key: keyDerToPem(client.keyDer) }),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test("a request from the stream CA's client for <nodeIP>:10350 reaches that node's kubelet", async () => {
  const r = await get('10.9.8.7:10350', apiserverClient);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'fake kubelet: /containerLogs/default/web/app?tailLines=5');
});

test('an address with no tunnel gets 502, not some other node', async () => {
  const r = await get('10.1.1.1:10350', apiserverClient);
  assert.equal(r.status, 502);
  assert.match(r.body, /no edge node with address 10\.1\.1\.1/);
});

test('clients without a certificate of the stream CA are refused by TLS (an edge certificate is not enough)', async () => {
  await assert.rejects(get('10.9.8.7:10350', undefined));
  await assert.rejects(get('10.9.8.7:10350', otherClient));
});
