import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBin, startDaemon, type Daemon } from './daemon.ts';
import { waitFor } from './tools.ts';

export type CloudPorts = { ws: number; https: number; api: number };

export type TestCloud = { daemon: Daemon; kubeconfig: string; token: string; configFile: string };

/**
 * cloudcore as a process with the embedded API server, everything under `dir`, on ports of the test's own (so
 * test files can run side by side); resolves once `keadm gettoken` hands out a join token.
 */
export async function startTestCloud(dir: string, ports: CloudPorts): Promise<TestCloud> {
  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  const configFile = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    configFile,
    `modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: ${dir}/cloud/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/rootCA.key
    tlsCertFile: ${dir}/cloud/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/server.key
    websocket: {port: ${ports.ws}}
    https: {port: ${ports.https}}
  apiServer: {port: ${ports.api}, dataDir: ${dir}/apiserver, adminKubeConfig: ${kubeconfig}}
`,
  );
  const daemon = startDaemon('cloudcore', ['--config', configFile], path.join(dir, 'cloudcore.log'));
  const token = await waitFor(async () => {
    const r = await runBin('keadm', ['gettoken', '--kube-config', kubeconfig]);
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  return { daemon, kubeconfig, token, configFile };
}
