// Issue 10's service-account and namespace items on a real edge: real cloudcore (embedded API server and its
// controllers) and edgecore processes, the real kubectl and a real dockerd with local images (see pods.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-lifecycle-edge-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-lifecycle-1';
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

const manifest = path.join(dir, 'pod.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web, tier: front}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: info, mountPath: /etc/podinfo}]
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: namespace, fieldRef: {fieldPath: metadata.namespace}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: mem, resourceFieldRef: {containerName: main, resource: limits.memory, divisor: 1Mi}}
`,
);

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const tryGet = (args: string[]) => get(args).catch(() => '');
const appContainer = async () => {
  const filters = ['label=io.kubernetes.pod.name=web', 'label=io.kubernetes.container.name=main', `label=io.kubeedge-ts.node=${node}`];
  const { stdout } = await run('docker', ['ps', '--no-trunc', '-q', ...filters.flatMap((f) => ['--filter', f])]);
  return stdout.trim().split('\n')[0] ?? '';
};
const cat = async (id: string, file: string) => (await run('docker', ['exec', id, 'cat', file])).stdout;

test('a pod on the edge gets a service-account token that authenticates and right downwardAPI files; deleting its namespace leaves no container', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  writeTestEdgeConfig(path.join(dir, 'edgecore.yaml'), {
    dir,
    node,
    token: tc.token,
    ports,
    kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' },
  });
  edge = startDaemon('edgecore', ['--config', path.join(dir, 'edgecore.yaml')], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await tryGet(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 60_000);

  await get(['create', 'namespace', 'app']);
  await waitFor(async () => (await tryGet(['get', 'serviceaccount', 'default', '-n', 'app', '-o', 'name'])).trim() !== '', 30_000);
  await waitFor(async () => (await tryGet(['get', 'configmap', 'kube-root-ca.crt', '-n', 'app', '-o', 'name'])).trim() !== '', 30_000);
  await get(['apply', '-f', manifest]);
  await waitFor(async () => (await tryGet(['get', 'pod', 'web', '-n', 'app', '-o', 'jsonpath={.status.phase}'])) === 'Running', 90_000);

  // The pod cannot reach the API server here: the token is read out of the container and used from the test.
  const id = await appContainer();
  const token = (await cat(id, '/var/run/secrets/kubernetes.io/serviceaccount/token')).trim();
  assert.equal(token.split('.').length, 3, 'a JWT');
  assert.match(await cat(id, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'), /BEGIN CERTIFICATE/);
  assert.equal(await cat(id, '/var/run/secrets/kubernetes.io/serviceaccount/namespace'), 'app');
  assert.equal((await get(['auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}'])).trim(), 'system:serviceaccount:app:default');
  assert.equal(await cat(id, '/etc/podinfo/name'), 'web');
  assert.equal(await cat(id, '/etc/podinfo/namespace'), 'app');
  assert.equal(await cat(id, '/etc/podinfo/labels'), 'app="web"\ntier="front"');
  assert.equal(await cat(id, '/etc/podinfo/mem'), '64');

  await get(['delete', 'namespace', 'app', '--wait=false']);
  await waitFor(async () => (await tryGet(['get', 'namespace', 'app', '-o', 'name'])).trim() === '', 90_000);
  assert.deepEqual(await dockerPs(['label=io.kubernetes.pod.namespace=app', `label=io.kubeedge-ts.node=${node}`]), [], 'no container left on the edge');
  passed();
});
