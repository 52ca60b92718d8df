// Issue "An edge node joins the cloud and shows Ready in kubectl", run as its "What it must show" says:
// cloudcore and edgecore as real processes with minimal configs, the real kubectl, real TLS on loopback,
// default ports 10000 and 10002 (where this host has them free: a cloudcore left running by `npm run demo`
// publishes them, and then the test takes ports the OS picks and says so).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBin, startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

const defaultsFree = (await bindablePort(10000)) !== undefined && (await bindablePort(10002)) !== undefined;
const wsPort = defaultsFree ? 10000 : ((await bindablePort(0)) as number);
const httpsPort = defaultsFree ? 10002 : ((await bindablePort(0)) as number);
const apiPort = (await bindablePort(16443)) ?? ((await bindablePort(0)) as number);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-join-'));
const adminKubeConfig = path.join(dir, 'admin.kubeconfig');
const nodeName = 'edge-join-1';
const cloudConfig = path.join(dir, 'cloudcore.yaml');
const edgeConfig = path.join(dir, 'edgecore.yaml');
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

function writeCloudConfig(): void {
  writeFileSync(
    cloudConfig,
    `apiVersion: cloudcore.config.kubeedge.io/v1alpha1
kind: CloudCore
commonConfig: {monitorServer: {bindAddress: 127.0.0.1:0}}
modules:
  cloudHub:
    advertiseAddress:
      - 127.0.0.1
    tlsCAFile: ${dir}/cloud/ca/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/ca/rootCA.key
    tlsCertFile: ${dir}/cloud/certs/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/certs/server.key
${defaultsFree ? '' : `    websocket: {port: ${wsPort}}\n    https: {port: ${httpsPort}}\n`}  apiServer:
    port: ${apiPort}
    dataDir: ${dir}/apiserver
    adminKubeConfig: ${adminKubeConfig}
`,
  );
}

function writeEdgeConfig(token: string): void {
  writeFileSync(
    edgeConfig,
    `apiVersion: edgecore.config.kubeedge.io/v1alpha2
kind: EdgeCore
database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged:
    hostnameOverride: ${nodeName}
    rootDirectory: ${dir}/edge/pods
  deviceTwin:
    dmiSockPath: ${dir}/edge/dmi.sock
  edgeHub:
    token: ${token}
    httpServer: https://127.0.0.1:${httpsPort}
    websocket:
      server: 127.0.0.1:${wsPort}
    tlsCaFile: ${dir}/edge/ca/rootCA.crt
    tlsCertFile: ${dir}/edge/certs/server.crt
    tlsPrivateKeyFile: ${dir}/edge/certs/server.key
`,
  );
}

async function readyStatus(): Promise<string> {
  const out = await kubectl(adminKubeConfig, ['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  return out.trim();
}

async function caSecret(): Promise<string> {
  return kubectl(adminKubeConfig, ['get', 'secret', '-n', 'kubeedge', 'casecret', '-o', 'jsonpath={.data.cadata}']);
}

before(() => {
  if (!defaultsFree) console.log(`# ports 10000/10002 are taken on this host; cloudcore listens on ${wsPort}/${httpsPort}`);
  writeCloudConfig();
});
after(async () => {
  await edge?.stop();
  await cloud?.stop();
});

test('edge node joins, goes Unknown when stopped, comes back without a new token, survives a cloudcore restart', { skip, timeout: 240_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')], 40);
  cloud = startDaemon('cloudcore', ['--config', cloudConfig], path.join(dir, 'cloudcore.log'));
  const token = await waitFor(async () => {
    const r = await runBin('keadm', ['gettoken', '--kube-config', adminKubeConfig]);
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  assert.equal(token.split('.').length, 4, 'a KubeEdge join token is <ca hash>.<jwt>');

  writeEdgeConfig(token);
  const joinStarted = Date.now();
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await readyStatus()) === 'True', 30_000);
  t.diagnostic(`Ready after ${Date.now() - joinStarted} ms`);

  const nodeYaml = await kubectl(adminKubeConfig, ['get', 'node', nodeName, '-o', 'yaml']);
  assert.match(nodeYaml, /node-role\.kubernetes\.io\/edge: ""/);
  assert.match(nodeYaml, /node-role\.kubernetes\.io\/agent: ""/);
  assert.match(nodeYaml, /type: InternalIP/);
  const table = await kubectl(adminKubeConfig, ['get', 'nodes']);
  assert.match(table, new RegExp(`${nodeName}\\s+Ready\\s+agent,edge`));
  const described = await kubectl(adminKubeConfig, ['describe', 'node', nodeName]);
  assert.match(described, /Ready\s+True/);
  const lease = await kubectl(adminKubeConfig, ['get', 'lease', '-n', 'kube-node-lease', nodeName, '-o', 'jsonpath={.spec.holderIdentity}']);
  assert.equal(lease, nodeName);

  // Stop edgecore: within 60 s Ready turns Unknown.
  assert.equal(await edge.stop(), 0, 'edgecore exits cleanly on SIGTERM');
  const stoppedAt = Date.now();
  await waitFor(async () => (await readyStatus()) === 'Unknown', 60_000, 1000);
  t.diagnostic(`Unknown ${Date.now() - stoppedAt} ms after edgecore stopped`);

  // Start it again with the token removed from its config: the certificate it already has is enough.
  writeEdgeConfig('');
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await readyStatus()) === 'True', 30_000);

  // Restart cloudcore: the edge reconnects by itself, the CA is unchanged, the node stays registered.
  const caBefore = await caSecret();
  assert.notEqual(caBefore, '');
  await cloud.stop();
  cloud = startDaemon('cloudcore', ['--config', cloudConfig], path.join(dir, 'cloudcore.log'));
  await waitFor(async () => (await caSecret()) !== '', 30_000);
  assert.equal(await caSecret(), caBefore, 'CA survives a cloudcore restart');
  const names = await kubectl(adminKubeConfig, ['get', 'nodes', '-o', 'name']);
  assert.match(names, new RegExp(`node/${nodeName}`));
  // The edge's lease renewals reach the new cloudcore: the renew time moves on.
  const renewTime = () => kubectl(adminKubeConfig, ['get', 'lease', '-n', 'kube-node-lease', nodeName, '-o', 'jsonpath={.spec.renewTime}']);
  const renewedBefore = await renewTime();
  const reconnectFrom = Date.now();
  await waitFor(async () => (await renewTime()) !== renewedBefore, 60_000, 1000);
  t.diagnostic(`lease renewed through the new cloudcore ${Date.now() - reconnectFrom} ms after it started`);
  await waitFor(async () => (await readyStatus()) === 'True', 30_000);
  passed();
});
