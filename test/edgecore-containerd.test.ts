// Issue 8, "What it must show": edgecore on containerd only, with no Docker socket on the host. Real cloudcore
// (embedded API server) and edgecore processes, the real kubectl and a private real containerd. edgecore runs in
// a private mount namespace with a fresh tmpfs over /run, so neither /var/run/docker.sock nor the host's
// /run/containerd exist for it; the private containerd's socket is either named in the config or bound at
// KubeEdge's default path, /run/containerd/containerd.sock. The start-up checks run (CHECK_EDGECORE_ENVIRONMENT
// is not set), so the engine check must accept the CRI endpoint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CriClient } from '../src/containers/cri/index.ts';
import type { CriContainerStatus } from '../src/containers/cri/index.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { BUSYBOX_IMAGE } from './helpers/docker.ts';
import { criSkip, startTestContainerd, type TestContainerd } from './helpers/containerd.ts';
import { runCommand, spawnDaemon, startDaemon, tailLogsOnFailure, type Daemon, type RunResult } from './helpers/daemon.ts';
import { kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const KUBEEDGE_DEFAULT = 'unix:///run/containerd/containerd.sock';

function canUnshare(): boolean {
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
}

const skip =
  skipUnless(kubectlPath() !== undefined, 'kubectl') ||
  skipUnless(canUnshare(), 'unshare -m (root, to give edgecore a private mount namespace)') ||
  (await criSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-ctrd-e2e-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-containerd-1';
const ports = { ws: 15_000, https: 15_002, api: 17_143 };
let containerd: TestContainerd | undefined;
let cri: CriClient | undefined;
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

/**
 * The shell that runs inside the new mount namespace: a fresh tmpfs over /run (/var/run links to it), optionally
 * the given socket bound at KubeEdge's default path, a refusal to go on if any Docker socket is still visible,
 * then the command.
 */
const NAMESPACE_SCRIPT = `set -e
mount -t tmpfs -o mode=0755 tmpfs /run
if [ -n "$KE_BIND_CONTAINERD" ]; then
  mkdir -p /run/containerd
  : > /run/containerd/containerd.sock
  mount --bind "$KE_BIND_CONTAINERD" /run/containerd/containerd.sock
fi
for s in /var/run/docker.sock /run/docker.sock /run/containerd/docker.sock; do
  if [ -e "$s" ]; then echo "a Docker socket is visible at $s" >&2; exit 97; fi
done
exec "$@"`;

function inPrivateRun(args: string[], bind: string | undefined): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug', KE_BIND_CONTAINERD: bind ?? '' };
  delete env['CHECK_EDGECORE_ENVIRONMENT'];
  delete env['DOCKER_HOST'];
  return { cmd: 'unshare', args: ['-m', '--propagation', 'private', 'sh', '-c', NAMESPACE_SCRIPT, 'sh', process.execPath, ...args], env };
}

/** edgecore from the sources, in its own mount namespace; the same Daemon shape as helpers/daemon.ts. */
function startEdgeWithoutDocker(configFile: string, bind?: string): Daemon {
  const { cmd, args, env } = inPrivateRun([path.join(ROOT, 'src/cmd/edgecore.ts'), '--config', configFile], bind);
  return spawnDaemon(cmd, args, path.join(dir, 'edgecore.log'), env);
}

/** A binary run to completion in its own mount namespace. */
function runWithoutDocker(args: string[], bind?: string): Promise<RunResult> {
  const { cmd, args: full, env } = inPrivateRun(args, bind);
  return runCommand(cmd, full, { ...env, LOG_LEVEL: 'info' });
}

function writeEdgeConfig(file: string, endpoint: string, token: string): void {
  const kubelet = { containerRuntimeEndpoint: endpoint, imageServiceEndpoint: endpoint, podLogsDir: `${dir}/pod-logs` };
  writeTestEdgeConfig(file, { dir, node, token, ports, kubelet });
}

const manifest = path.join(dir, 'web.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: ConfigMap
metadata: {name: web-content}
data:
  index.html: "hello from containerd"
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 2
  containers:
  - name: httpd
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    volumeMounts: [{name: content, mountPath: /www}]
  volumes:
  - name: content
    configMap: {name: web-content}
`,
);

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  cri?.close();
  await containerd?.stop();
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const podField = async (jsonpath: string) => (await get(['get', 'pod', 'web', '-o', `jsonpath=${jsonpath}`])).trim();
const nodeReady = async () => (await get(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True';
/** The app container as containerd itself reports it (CRI ContainerStatus, asked from outside edgecore). */
const containerState = async (id: string) => (await cri!.call<{ status: CriContainerStatus }>('ContainerStatus', { container_id: id })).status.state;
const fetchPage = async (ip: string) => {
  try {
    const r = await fetch(`http://${ip}:8080/index.html`, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : '';
  } catch {
    return '';
  }
};
const edgeConfig = path.join(dir, 'edgecore.yaml');
let podIP = '';
let containerId = '';

test('edgecore on containerd only (no Docker socket): node Ready, a pod Running, an offline restart keeps it', { skip, timeout: 300_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  containerd = await startTestContainerd();
  cri = new CriClient({ endpoint: containerd.endpoint });
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;

  // The socket check is edgecore's own start-up check, also run by keadm doctor: it speaks CRI now.
  writeEdgeConfig(edgeConfig, containerd.endpoint, tc.token);
  const doctor = await runWithoutDocker([path.join(ROOT, 'src/cmd/keadm.ts'), 'doctor', '--edge', '--config', edgeConfig]);
  assert.match(doctor.stdout, new RegExp(`^ok\\s+engine socket: ${containerd.endpoint} answers \\(containerd [^,]+, CRI v1\\)$`, 'm'), doctor.stdout);
  t.diagnostic(doctor.stdout.split('\n').find((l) => l.includes('engine socket')) ?? '');

  const started = Date.now();
  edge = startEdgeWithoutDocker(edgeConfig);
  await waitFor(nodeReady, 60_000);
  t.diagnostic(`node Ready ${Date.now() - started} ms after edgecore started`);
  assert.match(await get(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']), /^containerd:\/\/\d/);

  await get(['apply', '-f', manifest]);
  const applied = Date.now();
  await waitFor(async () => (await podField('{.status.phase}')) === 'Running', 60_000);
  t.diagnostic(`pod Running ${Date.now() - applied} ms after kubectl apply`);
  podIP = await podField('{.status.podIP}');
  assert.match(podIP, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(await waitFor(() => fetchPage(podIP), 15_000), 'hello from containerd', 'the configMap volume reached the container');
  const containerID = await podField('{.status.containerStatuses[0].containerID}');
  assert.match(containerID, /^containerd:\/\/[0-9a-f]{64}$/);
  containerId = containerID.slice('containerd://'.length);
  assert.equal(await containerState(containerId), 'CONTAINER_RUNNING');

  // The cloud goes away, then edgecore: restarted offline, it adopts the same container (not recreated).
  await cloud.stop();
  await edge.stop();
  writeEdgeConfig(edgeConfig, containerd.endpoint, '');
  edge = startEdgeWithoutDocker(edgeConfig);
  await new Promise((r) => setTimeout(r, 8000));
  assert.equal(edge.proc.exitCode, null, 'edgecore runs offline');
  assert.equal(await containerState(containerId), 'CONTAINER_RUNNING');
  const listed = await cri.call<{ containers: Array<{ id: string }> }>('ListContainers', {
    filter: { label_selector: { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.container.name': 'httpd' } },
  });
  assert.deepEqual(
    listed.containers.map((c) => c.id),
    [containerId],
    'the one app container is the one from before',
  );
  assert.equal(await fetchPage(podIP), 'hello from containerd');

  // The cloud comes back: Ready, the pod Running with the same container and no restart.
  cloud = startDaemon('cloudcore', ['--config', tc.configFile], path.join(dir, 'cloudcore.log'));
  await waitFor(nodeReady, 60_000);
  assert.equal(await podField('{.status.phase}'), 'Running');
  assert.equal(await podField('{.status.containerStatuses[0].restartCount}'), '0');
  assert.equal(await podField('{.status.containerStatuses[0].containerID}'), containerID);
  passed();
});

test("KubeEdge's literal default endpoint unix:///run/containerd/containerd.sock: refused with the fix when nothing is there, works when containerd is", {
  skip,
  timeout: 180_000,
}, async (t) => {
  assert.ok(containerd !== undefined && cloud !== undefined && edge !== undefined && containerId !== '', 'runs on the cluster of the previous test');
  await edge.stop();
  writeEdgeConfig(edgeConfig, KUBEEDGE_DEFAULT, '');

  // No containerd (and no Docker) there: the start-up check stops edgecore with one line and the fix.
  const refused = await runWithoutDocker([path.join(ROOT, 'src/cmd/edgecore.ts'), '--config', edgeConfig]);
  assert.equal(refused.code, 1, refused.stderr);
  const fails = `${refused.stdout}${refused.stderr}`.split('\n').filter((l) => l.includes('FAIL'));
  assert.equal(fails.length, 1, refused.stderr);
  assert.match(fails[0]!, /FAIL engine socket: \/run\/containerd\/containerd\.sock does not exist \(fix: start the engine \(containerd or Docker\)/);
  t.diagnostic(fails[0]!.trim());

  // The private containerd bound at the default path: edgecore starts, reports Ready, keeps the same pod.
  const restarted = new Date();
  edge = startEdgeWithoutDocker(edgeConfig, containerd.socket);
  await waitFor(async () => {
    const beat = await get(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}']);
    return (await nodeReady()) && new Date(beat) >= new Date(Math.floor(restarted.getTime() / 1000) * 1000);
  }, 60_000);
  assert.equal(edge.proc.exitCode, null);
  assert.equal(await containerState(containerId), 'CONTAINER_RUNNING');
  assert.equal(await fetchPage(podIP), 'hello from containerd');

  // kubectl delete: the containers go, through the default endpoint.
  await get(['delete', 'pod', 'web', '--wait=false']);
  await waitFor(
    async () =>
      (await cri!.call<{ items: unknown[] }>('ListPodSandbox', { filter: { label_selector: { 'io.kubernetes.pod.name': 'web' } } })).items.length === 0,
    30_000,
  );
  await waitFor(async () => !(await get(['get', 'pods', '-o', 'name'])).includes('pod/web'), 30_000);
});
