// cloudcore installs KubeEdge's CRDs at start, the same way on its embedded API server and on an external one
// (here a separate API server of ours, reached only through a kubeconfig, as a real kube-apiserver would be).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startApiServer, type RunningApiServer } from '../src/apiserver/index.ts';
import { logger } from '../src/core/log.ts';
import { startDaemon, type Daemon } from './helpers/daemon.ts';
import { kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-crds-'));
const daemons: Daemon[] = [];
let cluster: RunningApiServer | undefined;

after(async () => {
  for (const d of daemons) await d.stop();
  await cluster?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function startCloudcore(name: string, kubeConfig: string | undefined): Promise<string> {
  const d = path.join(dir, name);
  const [ws, https, api] = [await freePort(), await freePort(), await freePort()];
  const adminKubeConfig = path.join(d, 'admin.kubeconfig');
  const cfg = path.join(dir, `${name}.yaml`);
  writeFileSync(
    cfg,
    `${kubeConfig === undefined ? '' : `kubeAPIConfig:\n  kubeConfig: ${kubeConfig}\n`}commonConfig: {monitorServer: {bindAddress: 127.0.0.1:0}}
modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: ${d}/ca.crt
    tlsCAKeyFile: ${d}/ca.key
    tlsCertFile: ${d}/s.crt
    tlsPrivateKeyFile: ${d}/s.key
    websocket: {port: ${ws}}
    https: {port: ${https}}
  apiServer: {address: 127.0.0.1, port: ${api}, dataDir: ${d}/embedded, adminKubeConfig: ${adminKubeConfig}}
`,
  );
  daemons.push(startDaemon('cloudcore', ['--config', cfg], path.join(dir, `${name}.log`)));
  return kubeConfig ?? adminKubeConfig;
}

async function checkCrds(kc: string): Promise<void> {
  await waitFor(async () => {
    try {
      return /devices\.devices\.kubeedge\.io/.test(await kubectl(kc, ['get', 'crd', '-o', 'name']));
    } catch {
      return false;
    }
  }, 30_000);
  await kubectl(kc, ['wait', '--for=condition=Established', '--timeout=30s', 'crd/devices.devices.kubeedge.io', 'crd/objectsyncs.reliablesyncs.kubeedge.io']);
  const res = await kubectl(kc, ['api-resources', '-o', 'name']);
  for (const r of [
    'devices.devices.kubeedge.io',
    'devicemodels.devices.kubeedge.io',
    'objectsyncs.reliablesyncs.kubeedge.io',
    'clusterobjectsyncs.reliablesyncs.kubeedge.io',
    'rules.rules.kubeedge.io',
    'nodegroups.apps.kubeedge.io',
  ]) {
    assert.match(res, new RegExp(`^${r.replaceAll('.', '\\.')}$`, 'm'));
  }
  assert.match(await kubectl(kc, ['get', 'devices', '-A']), /^$|NAME/);
}

test('cloudcore with its embedded API server installs the KubeEdge CRDs at start', { skip, timeout: 90_000 }, async () => {
  await checkCrds(await startCloudcore('embedded', undefined));
});

test('cloudcore with an external API server installs the same CRDs there', { skip, timeout: 90_000 }, async () => {
  const log = logger('external-apiserver');
  log.level = 'warn';
  cluster = await startApiServer({
    address: '127.0.0.1',
    port: 0,
    dataDir: path.join(dir, 'cluster'),
    adminKubeConfig: path.join(dir, 'cluster.kubeconfig'),
    log,
  });
  await checkCrds(await startCloudcore('external', cluster.kubeConfigPath));
});
