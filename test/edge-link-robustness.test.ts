// The node-join issue's robustness checks against real processes on loopback: a wrong or an expired token stops
// edgecore with one line saying the token was refused; a TLS client without a certificate from the CA gets no
// session on the WebSocket port; garbage frames, a 20 MB frame and 10,000 messages a second from one peer neither
// crash cloudcore nor disturb a real edge node's session.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { newMessage } from '../src/core/message.ts';
import { ensureEdgeCertificates } from '../src/edge/edgehub/certificate/bootstrap.ts';
import { createJoinToken } from '../src/pki/token.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { runBin, startDaemon, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-robust-'));
let kubeconfig = '';
// Ports free on this host now, not fixed ones: another run of this file (a parallel checkout) must not collide.
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
const PROJECT = 'e632aba927ea4ac2b575ec1603d56f10';
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let token = '';

function edgeConfig(name: string, tok: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `database: {dataSource: ${dir}/${name}/edgecore.db}
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged:
    hostnameOverride: ${name}
    rootDirectory: ${dir}/${name}/pods
    tailoredKubeletConfig: {containerRuntimeEndpoint: unix:///var/run/docker.sock}
  deviceTwin: {dmiSockPath: ${dir}/${name}/dmi.sock}
  edgeHub:
    token: "${tok}"
    httpServer: https://127.0.0.1:${ports.https}
    websocket: {server: 127.0.0.1:${ports.ws}}
    tlsCaFile: ${dir}/${name}/ca.crt
    tlsCertFile: ${dir}/${name}/e.crt
    tlsPrivateKeyFile: ${dir}/${name}/e.key
`,
  );
  return file;
}

before(async () => {
  if (skip !== false) return;
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  token = tc.token;
  kubeconfig = tc.kubeconfig;
});

after(async () => {
  await edge?.stop();
  await cloud?.stop();
});

/** Lines of edgecore's stderr that are not JSON log records. */
function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

test('a token for another CA: edgecore exits non-zero with one line saying the token was refused', { skip, timeout: 60_000 }, async () => {
  const [, ...jwt] = token.split('.');
  const forged = ['0'.repeat(64), ...jwt].join('.');
  const r = await runBin('edgecore', ['--config', edgeConfig('edge-forged', forged)], { LOG_LEVEL: 'warn' });
  assert.notEqual(r.code, 0);
  const lines = plainLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^edgecore: join token refused: it does not match the cloud's CA/);
});

test('an expired token: edgecore exits non-zero with one line saying the token was refused', { skip, timeout: 60_000 }, async () => {
  const data = (key: string) => kubectl(kubeconfig, ['get', 'secret', '-n', 'kubeedge', 'casecret', '-o', `jsonpath={.data.${key}}`]);
  const ca = { certDer: Buffer.from(await data('cadata'), 'base64'), keyDer: Buffer.from(await data('cakeydata'), 'base64') };
  const expired = await createJoinToken(ca, 12, new Date(Date.now() - 48 * 3600_000));
  const r = await runBin('edgecore', ['--config', edgeConfig('edge-expired', expired)], { LOG_LEVEL: 'warn' });
  assert.notEqual(r.code, 0);
  const lines = plainLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^edgecore: join token refused by the cloud.*expired/);
});

test('a TLS client without a certificate from the CA cannot open a session', { skip, timeout: 30_000 }, async () => {
  const attempt = new WebSocket(`wss://127.0.0.1:${ports.ws}/${PROJECT}/intruder/events`, {
    headers: { node_id: 'intruder', project_id: PROJECT },
    rejectUnauthorized: false,
  });
  const outcome = await new Promise<string>((resolve) => {
    attempt.once('open', () => resolve('open'));
    attempt.once('error', (e) => resolve(`error: ${e.message}`));
    attempt.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
  });
  attempt.terminate();
  assert.notEqual(outcome, 'open');
});

test('garbage, a 20 MB frame and 10,000 messages a second from one peer leave cloudcore and another edge unharmed', { skip, timeout: 180_000 }, async (t) => {
  edge = startDaemon('edgecore', ['--config', edgeConfig('edge-calm', token)], path.join(dir, 'edgecore.log'));
  const ready = () => kubectl(kubeconfig, ['get', 'node', 'edge-calm', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  await waitFor(async () => (await ready()) === 'True', 30_000);
  const renewTime = () => kubectl(kubeconfig, ['get', 'lease', '-n', 'kube-node-lease', 'edge-calm', '-o', 'jsonpath={.spec.renewTime}']);

  // The attacker is a node with a real certificate: the worst case, past TLS.
  const certs = await ensureEdgeCertificates({
    httpServer: `https://127.0.0.1:${ports.https}`,
    token,
    nodeName: 'edge-flood',
    caFile: path.join(dir, 'flood/ca.crt'),
    certFile: path.join(dir, 'flood/e.crt'),
    keyFile: path.join(dir, 'flood/e.key'),
  });
  const ws = new WebSocket(`wss://127.0.0.1:${ports.ws}/${PROJECT}/edge-flood/events`, {
    headers: { node_id: 'edge-flood', project_id: PROJECT, ConnectionUse: 'msg' },
    ca: certs.caPem,
    cert: certs.certPem,
    key: certs.keyPem,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const renewedBefore = await renewTime();

  for (let i = 0; i < 200; i++) ws.send(i % 2 === 0 ? '{"not": "a message"' : Buffer.from([0xff, 0x00, i]));
  ws.send('x'.repeat(20 * 1024 * 1024));
  const started = Date.now();
  for (let i = 0; i < 10_000; i++) {
    ws.send(`${JSON.stringify(newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: `default/configmap/flood-${i}` }))}\n`);
  }
  t.diagnostic(`10,000 messages written in ${Date.now() - started} ms`);

  // The calm edge keeps renewing its lease and stays Ready while the flood is worked off.
  await waitFor(async () => (await renewTime()) !== renewedBefore, 60_000, 1000);
  assert.equal(await ready(), 'True');
  assert.equal(cloud?.proc.exitCode, null, 'cloudcore is still running');
  assert.equal(ws.readyState, WebSocket.OPEN, 'the flooding peer itself keeps its session: bad frames are dropped, not fatal');
  ws.terminate();
  const logs = readFileSync(path.join(dir, 'cloudcore.log'), 'utf8');
  assert.match(logs, /frames dropped/);
});
