import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { CloudStream } from '../../../../src/cloud/cloudstream/cloudstream.ts';
import { certDerToPem, createCA, issueKeyPair, type KeyPairDer, keyDerToPem } from '../../../../src/pki/x509.ts';
import { dialTunnel, type StreamHeader, type StreamResetError, type TunnelSession } from '../../../../src/stream/index.ts';

const log = pino({ level: 'silent' });
let ca: KeyPairDer;
let cloud: CloudStream;
let url: string;
const certs = new Map<string, KeyPairDer>();

async function nodeCert(subject: string): Promise<KeyPairDer> {
  const c = await issueKeyPair(ca, { subject, usages: ['clientAuth'], days: 1 });
  certs.set(subject, c);
  return c;
}

async function dialAs(subject: string, nodeName: string, purpose: 'kubelet' | 'mesh'): Promise<TunnelSession> {
  const c = certs.get(subject) ?? (await nodeCert(subject));
  return dialTunnel({
    url,
    ca: Buffer.from(certDerToPem(ca.certDer)),
    cert: Buffer.from(certDerToPem(c.certDer)),
    key: Buffer.from(keyDerToPem(c.keyDer)),
    nodeName,
    purpose,
    log,
  });
}

async function readAll(s: Duplex): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

before(async () => {
  ca = await createCA();
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  cloud = new CloudStream({
    enabled: true,
    tunnel: { address: '127.0.0.1', port: 0, caPem: certDerToPem(ca.certDer), certPem: certDerToPem(server.certDer), keyPem: keyDerToPem(server.keyDer), ca },
    log,
  });
  await cloud.start({} as never);
  url = `127.0.0.1:${cloud.tunnelAddress?.port}`;
});

after(async () => {
  await cloud.stop();
});

test('a node with its own certificate gets a tunnel under its name; another name on that certificate is refused', async () => {
  const s = await dialAs('CN=system:node:edge-a, O=system:nodes', 'edge-a', 'kubelet');
  assert.ok(cloud.registry.get('edge-a', 'kubelet'));
  await assert.rejects(dialAs('CN=system:node:edge-a, O=system:nodes', 'edge-b', 'kubelet'), /403/);
  assert.equal(cloud.registry.get('edge-b', 'kubelet'), undefined);
  s.close();
});

test('a certificate from another CA never gets a tunnel', async () => {
  const otherCa = await createCA('other');
  const c = await issueKeyPair(otherCa, { subject: 'CN=system:node:edge-x, O=system:nodes', usages: ['clientAuth'], days: 1 });
  await assert.rejects(
    dialTunnel({
      url,
      ca: Buffer.from(certDerToPem(ca.certDer)),
      cert: Buffer.from(certDerToPem(c.certDer)),
      key: Buffer.from(keyDerToPem(c.keyDer)),
      nodeName: 'edge-x',
      purpose: 'kubelet',
      log,
    }),
    /KE_TUNNEL_DIAL|failed/,
  );
});

test('mesh relay: A reaches B through the cloud, B sees the authenticated sender; no mesh tunnel on C means a reset', async () => {
  const a = await dialAs('CN=system:node:mesh-a, O=system:nodes', 'mesh-a', 'mesh');
  const b = await dialAs('CN=kubeedge.io, O=KubeEdge', 'mesh-b', 'mesh'); // KubeEdge's shared edge certificate
  b.on('stream', (header: StreamHeader, s) => {
    s.end(`from=${String(header['from'])} target=${String(header['target'])} protocol=${String(header['protocol'])}`);
    s.resume();
  });
  const s = a.open({ kind: 'relay', node: 'mesh-b', target: '172.17.0.5:8080', protocol: 'tcp', from: 'forged' });
  s.end('hello');
  assert.equal(await readAll(s), 'from=mesh-a target=172.17.0.5:8080 protocol=tcp');

  const none = a.open({ kind: 'relay', node: 'mesh-c', target: '10.0.0.1:80', protocol: 'tcp' });
  const [err] = (await once(none, 'error')) as [StreamResetError];
  assert.equal(err.reason, 'node mesh-c has no mesh session');
  a.close();
  b.close();
});

test('a second tunnel of the same node replaces the first', async () => {
  const first = await dialAs('CN=system:node:edge-r, O=system:nodes', 'edge-r', 'kubelet');
  const closed = once(first, 'close');
  const second = await dialAs('CN=system:node:edge-r, O=system:nodes', 'edge-r', 'kubelet');
  await closed;
  assert.equal(cloud.registry.get('edge-r', 'kubelet')?.session.closed, false);
  second.close();
});

test("with cloudHub.authorization enforced (allowSharedCerts off) a shared certificate gets no tunnel, nor a deleted node's certificate", async () => {
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  const strict = new CloudStream({
    enabled: true,
    tunnel: { address: '127.0.0.1', port: 0, caPem: certDerToPem(ca.certDer), certPem: certDerToPem(server.certDer), keyPem: keyDerToPem(server.keyDer), ca },
    identity: { allowSharedCerts: false, nodeExists: async (name) => name !== 'edge-gone', enrolmentGraceMs: 0 },
    log,
  });
  await strict.start({} as never);
  const strictUrl = `127.0.0.1:${strict.tunnelAddress?.port}`;
  const dialStrict = async (subject: string, nodeName: string): Promise<TunnelSession> => {
    const c = certs.get(subject) ?? (await nodeCert(subject));
    return dialTunnel({
      url: strictUrl,
      ca: Buffer.from(certDerToPem(ca.certDer)),
      cert: Buffer.from(certDerToPem(c.certDer)),
      key: Buffer.from(keyDerToPem(c.keyDer)),
      nodeName,
      purpose: 'kubelet',
      log,
    });
  };
  try {
    await assert.rejects(dialStrict('CN=kubeedge.io, O=KubeEdge', 'edge-s'), /403/);
    assert.equal(strict.registry.get('edge-s', 'kubelet'), undefined);
    await assert.rejects(dialStrict('CN=system:node:edge-gone, O=system:nodes', 'edge-gone'), /403/);
    const ok = await dialStrict('CN=system:node:edge-here, O=system:nodes', 'edge-here');
    assert.ok(strict.registry.get('edge-here', 'kubelet'));
    ok.close();
  } finally {
    await strict.stop();
  }
});
