// Issue 12: logs and exec work with an edge in a network namespace that the cloud cannot dial into. The edge
// reaches the cloud over a veth pair; inside the namespace every incoming TCP SYN is dropped, so nothing can
// connect to the edge and all kubectl traffic rides the tunnel the edge dialled out.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { testCloudStream, writeTestEdgeConfig } from './helpers/cloud.ts';
import { type Daemon, runBin, spawnDaemon, startDaemon, tailLogsOnFailure } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const netnsOk = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0 && spawnSync('iptables', ['--version']).status === 0;
const skip = skipUnless(netnsOk, 'root with ip netns and iptables') || skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const suffix = Math.random().toString(16).slice(2, 6);
const ns = `kes-${suffix}`;
const hostIf = `kesh${suffix}`;
const net = 100 + Math.floor(Math.random() * 100);
const hostIP = `10.252.${net}.1`;
const edgeIP = `10.252.${net}.2`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-streams-netns-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-netns-1';
const free = async (): Promise<number> => (await bindablePort(0)) as number;
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let nsMade = false;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  if (nsMade) {
    spawnSync('ip', ['link', 'del', hostIf]);
    spawnSync('ip', ['netns', 'del', ns]);
  }
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) spawnSync('docker', ['rm', '-f', ...left]);
});

test('kubectl logs and exec reach a pod on an edge the cloud cannot dial (edge in its own network namespace)', { skip, timeout: 180_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  sh('ip', ['netns', 'add', ns]);
  nsMade = true;
  sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'kesn0', 'netns', ns]);
  sh('ip', ['addr', 'add', `${hostIP}/30`, 'dev', hostIf]);
  sh('ip', ['link', 'set', hostIf, 'up']);
  inNs('ip', ['addr', 'add', `${edgeIP}/30`, 'dev', 'kesn0']);
  inNs('ip', ['link', 'set', 'kesn0', 'up']);
  inNs('ip', ['link', 'set', 'lo', 'up']);
  // Nothing may connect in: every TCP SYN arriving on the veth is dropped (replies to the edge's own dials pass).
  inNs('iptables', ['-A', 'INPUT', '-i', 'kesn0', '-p', 'tcp', '--syn', '-j', 'DROP']);

  const ports = { ws: await free(), https: await free(), api: await free(), tunnel: await free() };
  const kubeletPort = await free();
  const cloudConfig = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    cloudConfig,
    `modules:
  cloudHub:
    advertiseAddress: [127.0.0.1, ${hostIP}]
    tlsCAFile: ${dir}/cloud/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/rootCA.key
    tlsCertFile: ${dir}/cloud/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/server.key
    websocket: {port: ${ports.ws}}
    https: {port: ${ports.https}}
  apiServer: {port: ${ports.api}, dataDir: ${dir}/apiserver, adminKubeConfig: ${kubeconfig}}
${testCloudStream(dir, ports.tunnel)}`,
  );
  cloud = startDaemon('cloudcore', ['--config', cloudConfig], path.join(dir, 'cloudcore.log'));
  const token = await waitFor(async () => {
    const r = await runBin('keadm', ['gettoken', '--kube-config', kubeconfig]);
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  const edgeConfig = path.join(dir, 'edgecore.yaml');
  writeTestEdgeConfig(edgeConfig, {
    dir,
    node,
    token,
    ports,
    kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock', readOnlyPort: String(kubeletPort) },
  });
  writeFileSync(
    edgeConfig,
    `${readFileSync(edgeConfig, 'utf8').replaceAll('127.0.0.1:', `${hostIP}:`)}  edgeStream: {enable: true, server: ${hostIP}:${ports.tunnel}}\n`,
  );
  // nsenter execs the daemon itself (ip netns exec forks), so stop() signals edgecore, not a wrapper.
  edge = spawnDaemon(
    'nsenter',
    [`--net=/var/run/netns/${ns}`, '--', process.execPath, path.join(ROOT, 'src/cmd/edgecore.ts'), '--config', edgeConfig],
    path.join(dir, 'edgecore.log'),
    {
      ...process.env,
      LOG_LEVEL: 'debug',
    },
  );
  const k = (args: string[]) => kubectl(kubeconfig, args);
  await waitFor(async () => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 45_000);

  // The cloud host really cannot connect to the edge: a dial to its address does not get through.
  const dialled = await new Promise<string>((resolve) => {
    const s = connect({ host: edgeIP, port: kubeletPort, timeout: 1500 });
    const done = (r: string): void => {
      s.destroy();
      resolve(r);
    };
    s.on('connect', () => done('connected'));
    s.on('timeout', () => done('timeout'));
    s.on('error', (e) => done(e.message));
  });
  assert.notEqual(dialled, 'connected');

  const pod = path.join(dir, 'pod.yaml');
  writeFileSync(
    pod,
    `apiVersion: v1
kind: Pod
metadata: {name: behind-nat}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo hello-from-behind-nat; exec sleep 100000"]
`,
  );
  await k(['apply', '-f', pod]);
  await waitFor(async () => (await k(['get', 'pod', 'behind-nat', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);
  const logs = await waitFor(async () => {
    try {
      return await k(['logs', 'behind-nat']);
    } catch {
      return '';
    }
  }, 20_000);
  assert.match(logs, /hello-from-behind-nat/);
  assert.equal((await k(['exec', 'behind-nat', '--', 'sh', '-c', 'echo exec-ok'])).trim(), 'exec-ok');
  passed();
});
