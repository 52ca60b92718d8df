// cloudcore as a process with `modules.cloudHub.authorization: {enable: true, debug: false}`: the config switch
// reaches CloudHub, the certificate service and EdgeController. An enrolled edge is held to its node name, the
// shared KubeEdge certificate is refused, and asking for the join token's Secret through the link gets a 403.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { newMessage, type Message } from '../src/core/message.ts';
import { ensureEdgeCertificates, type EdgeCerts } from '../src/edge/edgehub/certificate/bootstrap.ts';
import { loadKubeConfig } from '../src/kube/client.ts';
import { KubeRest } from '../src/kube/rest.ts';
import { certDerToPem, issueKeyPair, keyDerToPem } from '../src/pki/x509.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { quietLog } from './helpers/cloudhub.ts';
import { tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort } from './helpers/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-authz-'));
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;

after(async () => {
  await cloud?.stop();
});

type Pem = { caPem: string; certPem: string; keyPem: string };

function dial(nodeId: string, c: Pem): Promise<{ status: number; body: string; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${ports.ws}/e632aba927ea4ac2b575ec1603d56f10/${nodeId}/events`, {
      headers: { node_id: nodeId, project_id: 'e632aba927ea4ac2b575ec1603d56f10' },
      ca: c.caPem,
      cert: c.certPem,
      key: c.keyPem,
    });
    ws.once('open', () => resolve({ status: 101, body: '', ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

function ask(ws: WebSocket, operation: string, resource: string): Promise<Message> {
  const m = newMessage({ source: 'edged', group: 'meta', operation, resource, content: null });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no reply to ${operation} ${resource}`)), 10_000);
    ws.on('message', (d) => {
      const r = JSON.parse(d.toString()) as Message;
      if (r.header.parent_msg_id !== m.header.msg_id) return;
      clearTimeout(t);
      resolve(r);
    });
    ws.send(JSON.stringify(m));
  });
}

test('cloudcore with authorization enforced: node names bind, shared certificates and foreign Secrets are refused', { timeout: 120_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
  const tc = await startTestCloud(dir, ports, '', '    authorization: {enable: true, debug: false, modes: [{node: {enable: true}}]}\n');
  cloud = tc.daemon;
  const enrol = (node: string): Promise<EdgeCerts> =>
    ensureEdgeCertificates({
      httpServer: `https://127.0.0.1:${ports.https}`,
      token: tc.token,
      nodeName: node,
      caFile: path.join(dir, node, 'ca.crt'),
      certFile: path.join(dir, node, 'edge.crt'),
      keyFile: path.join(dir, node, 'edge.key'),
      log: quietLog('edge-cert'),
    });
  const a = await enrol('authz-a');

  const wrong = await dial('authz-b', a);
  assert.equal(wrong.status, 403);
  assert.match(wrong.body, /certificate is for node "authz-a", not "authz-b"/);

  // A KubeEdge v1.15-style shared certificate, signed by the same CA.
  const kube = new KubeRest(loadKubeConfig({ kubeConfig: tc.kubeconfig }));
  try {
    const secret = await kube.get<{ data: Record<string, string> }>('/api/v1/namespaces/kubeedge/secrets/casecret');
    const ca = { certDer: Buffer.from(secret.data['cadata'] ?? '', 'base64'), keyDer: Buffer.from(secret.data['cakeydata'] ?? '', 'base64') };
    const shared = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
    const refused = await dial('authz-c', { caPem: certDerToPem(ca.certDer), certPem: certDerToPem(shared.certDer), keyPem: keyDerToPem(shared.keyDer) });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /names no node/);
  } finally {
    kube.close();
  }

  const own = await dial('authz-a', a);
  assert.equal(own.status, 101);
  const ws = own.ws as WebSocket;
  try {
    const reply = await ask(ws, 'query', 'kubeedge/secret/tokensecret');
    const err = (reply.content as { ErrStatus?: { code?: number; reason?: string } }).ErrStatus;
    assert.equal(err?.code, 403);
    assert.equal(err?.reason, 'Forbidden');
    assert.doesNotMatch(JSON.stringify(reply.content), new RegExp(tc.token.split('.')[1] ?? 'no-token'));
  } finally {
    ws.close();
  }
  const log = readFileSync(path.join(dir, 'cloudcore.log'), 'utf8');
  assert.match(log, /edge identity refused/);
  assert.match(log, /node authorizer denied request/);
  passed();
});
