import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PAUSE_IMAGE } from './docker.ts';
import { runBin, startDaemon, type Daemon } from './daemon.ts';
import { waitFor } from './tools.ts';

/** `metrics`: cloudcore's monitorServer port (default 0: a free one). */
export type CloudPorts = { ws: number; https: number; api: number; metrics?: number };

export type TestCloud = { daemon: Daemon; kubeconfig: string; token: string; configFile: string };

/**
 * cloudcore as a process with the embedded API server, everything under `dir`, on ports of the test's own (so
 * test files can run side by side); resolves once `keadm gettoken` hands out a join token. `extraModules`: more
 * lines under `modules:` (indented two spaces), e.g. `  edgeController: {nodeMonitorGracePeriod: 8}\n`; `extraCloudHub`: more
 * lines under `modules.cloudHub:` (indented four spaces), e.g. `    authorization: {enable: true, debug: false}\n`.
 */
export async function startTestCloud(dir: string, ports: CloudPorts, extraModules = '', extraCloudHub = ''): Promise<TestCloud> {
  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  const configFile = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    configFile,
    `commonConfig:
  monitorServer: {bindAddress: 127.0.0.1:${ports.metrics ?? 0}}
modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: ${dir}/cloud/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/rootCA.key
    tlsCertFile: ${dir}/cloud/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/server.key
    websocket: {port: ${ports.ws}}
    https: {port: ${ports.https}}
${extraCloudHub}  apiServer: {port: ${ports.api}, dataDir: ${dir}/apiserver, adminKubeConfig: ${kubeconfig}}
${extraModules}`,
  );
  const daemon = startDaemon('cloudcore', ['--config', configFile], path.join(dir, 'cloudcore.log'));
  const token = await waitFor(async () => {
    const r = await runBin('keadm', ['gettoken', '--kube-config', kubeconfig]);
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  return { daemon, kubeconfig, token, configFile };
}

/**
 * `modules.cloudStream` of a {@link startTestCloud} cloud: on, on `tunnelPort`, every certificate path under `dir`
 * (the tunnel uses the cloud PKI, like cloudHub; no stream CA there, so no stream server), never KubeEdge's
 * /etc/kubeedge defaults, which a machine with KubeEdge installed has.
 */
export function testCloudStream(dir: string, tunnelPort: number): string {
  const c = path.join(dir, 'cloud');
  return `  cloudStream: {enable: true, tunnelPort: ${tunnelPort}, tlsTunnelCAFile: ${c}/rootCA.crt, tlsTunnelCertFile: ${c}/server.crt, tlsTunnelPrivateKeyFile: ${c}/server.key, tlsStreamCAFile: ${c}/streamCA.crt, tlsStreamCertFile: ${c}/stream.crt, tlsStreamPrivateKeyFile: ${c}/stream.key}\n`;
}

export type TestEdgeConfig = {
  dir: string;
  node: string;
  token: string;
  ports: CloudPorts;
  /** `modules.edged.tailoredKubeletConfig` keys: the runtime endpoint at least. */
  kubelet: Record<string, string>;
  /** edgecore's `modules.metrics` port (default 0: a free one). */
  metricsPort?: number;
};

/**
 * The edgecore.yaml of a node joining a {@link startTestCloud} cloud: its database and certificates under
 * `dir/edge`, pods under `dir/kubelet`, the test pause image, and the given kubelet keys.
 */
export function writeTestEdgeConfig(file: string, o: TestEdgeConfig): void {
  const { dir, ports } = o;
  // The kubelet API's default port (10350) is fixed: a test that wants it names a free one.
  const kubelet = Object.entries({ readOnlyPort: '0', ...o.kubelet })
    .map(([k, v]) => `      ${k}: ${v}\n`)
    .join('');
  writeFileSync(
    file,
    `database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  edged:
    hostnameOverride: ${o.node}
    rootDirectory: ${dir}/kubelet
    podSandboxImage: ${PAUSE_IMAGE}
    tailoredKubeletConfig:
${kubelet}  deviceTwin: {dmiSockPath: ${dir}/edge/dmi.sock}
  metrics: {bindAddress: 127.0.0.1:${o.metricsPort ?? 0}}
  edgeHub:
    token: "${o.token}"
    httpServer: https://127.0.0.1:${ports.https}
    websocket: {server: 127.0.0.1:${ports.ws}}
    tlsCaFile: ${dir}/edge/rootCA.crt
    tlsCertFile: ${dir}/edge/server.crt
    tlsPrivateKeyFile: ${dir}/edge/server.key
`,
  );
}
