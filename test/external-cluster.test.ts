// `kubeAPIConfig.kubeConfig` pointing at a cluster switches the embedded API server off: cloudcore keeps its
// CA and token in that cluster and serves edges from it. The "cluster" here is a separate API server process
// (ours, started alone), reached only through the kubeconfig, as a real kube-apiserver would be.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startApiServer, type RunningApiServer } from '../src/apiserver/index.ts';
import { runBin, startDaemon, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-ext-'));
let cluster: RunningApiServer | undefined;
let cloud: Daemon | undefined;
// Ports free on this host now (fixed ones collide with a parallel run); the embedded API server's must stay closed.
const [wsPort, httpsPort, embeddedPort] = [(await bindablePort(0)) as number, (await bindablePort(0)) as number, (await bindablePort(0)) as number];

after(async () => {
  await cloud?.stop();
  await cluster?.close();
});

test('cloudcore with a kubeconfig uses that cluster and starts no API server of its own', { skip, timeout: 60_000 }, async () => {
  cluster = await startApiServer({ address: '127.0.0.1', port: 0, dataDir: path.join(dir, 'cluster'), adminKubeConfig: path.join(dir, 'cluster.kubeconfig') });
  const notEmbedded = path.join(dir, 'embedded.kubeconfig');
  const cfg = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    cfg,
    `kubeAPIConfig:
  kubeConfig: ${cluster.kubeConfigPath}
commonConfig: {monitorServer: {bindAddress: 127.0.0.1:0}}
modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: ${dir}/ca.crt
    tlsCAKeyFile: ${dir}/ca.key
    tlsCertFile: ${dir}/s.crt
    tlsPrivateKeyFile: ${dir}/s.key
    websocket: {port: ${wsPort}}
    https: {port: ${httpsPort}}
  apiServer: {port: ${embeddedPort}, dataDir: ${dir}/embedded, adminKubeConfig: ${notEmbedded}}
`,
  );
  cloud = startDaemon('cloudcore', ['--config', cfg], path.join(dir, 'cloudcore.log'));
  const token = await waitFor(async () => {
    const r = await runBin('keadm', ['gettoken', '--kube-config', cluster?.kubeConfigPath ?? '']);
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  assert.equal(token.split('.').length, 4);
  const secrets = await kubectl(cluster.kubeConfigPath, ['get', 'secrets', '-n', 'kubeedge', '-o', 'name']);
  assert.match(secrets, /secret\/casecret/);
  assert.equal(existsSync(notEmbedded), false, 'no embedded API server wrote its kubeconfig');
  const listening = await new Promise<boolean>((resolve) => {
    const s = connect(embeddedPort, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
  assert.equal(listening, false, 'nothing listens on the embedded API server port');
});
