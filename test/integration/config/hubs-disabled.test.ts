// KubeEdge v1.15.4's own `cloudcore --minconfig` prints `cloudHub.enable: false`. Loaded as it is (paths and ports
// edited, plus our apiServer extension to keep the test on its own ports), cloudcore starts, says in one line that
// it serves no edge, and indeed listens on neither the WebSocket nor the certificate port.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseDocument } from 'yaml';
import { startDaemon, type Daemon } from '../../helpers/daemon.ts';
import { waitFor } from '../../helpers/tools.ts';

const REFERENCE = path.resolve(import.meta.dirname, '../../../../shared/reference/configs/cloudcore-v1.15.4-minconfig.yaml');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-hubs-off-'));
const ports = { ws: 15_100, https: 15_102, api: 16_853 };
let cloud: Daemon | undefined;

after(async () => {
  await cloud?.stop();
});

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

test("cloudcore from KubeEdge v1.15.4's --minconfig (cloudHub.enable: false) runs and serves no edge, and says so once", { timeout: 60_000 }, async () => {
  const doc = parseDocument(readFileSync(REFERENCE, 'utf8'));
  assert.equal(doc.getIn(['modules', 'cloudHub', 'enable']), false, "KubeEdge's own min config disables cloudHub");
  for (const [p, v] of [
    [['modules', 'cloudHub', 'tlsCAFile'], `${dir}/ca/rootCA.crt`],
    [['modules', 'cloudHub', 'tlsCAKeyFile'], `${dir}/ca/rootCA.key`],
    [['modules', 'cloudHub', 'tlsCertFile'], `${dir}/certs/server.crt`],
    [['modules', 'cloudHub', 'tlsPrivateKeyFile'], `${dir}/certs/server.key`],
    [['modules', 'cloudHub', 'advertiseAddress'], ['127.0.0.1']],
    [['modules', 'cloudHub', 'websocket', 'port'], ports.ws],
    [['modules', 'cloudHub', 'https', 'port'], ports.https],
    [['modules', 'cloudHub', 'unixsocket', 'address'], `unix://${dir}/kubeedge.sock`],
  ] as const) {
    assert.ok(doc.hasIn(p), p.join('.'));
    doc.setIn(p, v);
  }
  doc.setIn(['commonConfig', 'monitorServer', 'bindAddress'], '127.0.0.1:0');
  doc.setIn(['modules', 'apiServer'], { port: ports.api, dataDir: `${dir}/apiserver`, adminKubeConfig: `${dir}/admin.kubeconfig` });
  const file = path.join(dir, 'cloudcore.yaml');
  writeFileSync(file, doc.toString());

  cloud = startDaemon('cloudcore', ['--config', file], path.join(dir, 'cloudcore.log'));
  const log = () => readFileSync(path.join(dir, 'cloudcore.log'), 'utf8');
  await waitFor(async () => log().includes('cloudcore started'), 45_000);
  const lines = log().split('\n');
  assert.equal(lines.filter((l) => /modules\.cloudHub\.enable \(line \d+\): false: cloudcore serves no edge/.test(l)).length, 1, log());
  // iptablesManager (on in KubeEdge's min config) is built: no not-built warning; it programs nothing without a stream server
  assert.equal(lines.filter((l) => /module iptablesManager is not built/.test(l)).length, 0);
  assert.equal(await refused(ports.ws), true, 'no WebSocket listener');
  assert.equal(await refused(ports.https), true, 'no certificate service');
  assert.equal(cloud.proc.exitCode, null, 'cloudcore keeps running');
});
