// Issue "Pods run on the edge through Docker, survive a lost cloud and a restarted edge", run as its "What it
// must show" says: real cloudcore and edgecore processes, the real kubectl and a real dockerd with local images.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-pods-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-pods-1';
const hostPort = 20_000 + Math.floor(Math.random() * 20_000);
// Ports free on this host now, not fixed ones: another run of this file (a parallel checkout) must not collide.
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

let cloudConfig = '';
const edgeConfig = path.join(dir, 'edgecore.yaml');
function writeEdgeConfig(token: string): void {
  writeTestEdgeConfig(edgeConfig, { dir, node, token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
}

const manifest = path.join(dir, 'web.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: ConfigMap
metadata: {name: web-content}
data:
  index.html: "hello from the configmap"
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 5
  containers:
  - name: httpd
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: [{containerPort: 8080, hostPort: ${hostPort}}]
    volumeMounts: [{name: content, mountPath: /www}]
  volumes:
  - name: content
    configMap: {name: web-content}
`,
);

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  // Whatever a failed run left behind: the pods' containers carry our node label.
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const podField = async (name: string, jsonpath: string) => (await get(['get', 'pod', name, '-o', `jsonpath=${jsonpath}`])).trim();
/** The running app container's id (`docker ps` without -a). */
const appContainer = async () => {
  const filters = ['label=io.kubernetes.pod.name=web', 'label=io.kubernetes.container.name=httpd', `label=io.kubeedge-ts.node=${node}`];
  const { stdout } = await run('docker', ['ps', '--no-trunc', '-q', ...filters.flatMap((f) => ['--filter', f])]);
  return stdout.trim().split('\n')[0] ?? '';
};
const fetchPage = async () => {
  try {
    const r = await fetch(`http://127.0.0.1:${hostPort}/index.html`, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : '';
  } catch {
    return '';
  }
};

test('a pod runs on the edge through Docker, restarts, survives an offline edge restart, and is deleted', { skip, timeout: 300_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  cloudConfig = tc.configFile;
  const token = tc.token;
  writeEdgeConfig(token);
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await get(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 30_000);

  // Apply a ConfigMap and a Pod: Running within 30 s, with an IP, the hostPort serving the ConfigMap.
  await get(['apply', '-f', manifest]);
  const applied = Date.now();
  await waitFor(async () => (await podField('web', '{.status.phase}')) === 'Running', 30_000);
  t.diagnostic(`Running ${Date.now() - applied} ms after kubectl apply`);
  const wide = await get(['get', 'pods', '-o', 'wide']);
  assert.match(wide, new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+\\d+\\.\\d+\\.\\d+\\.\\d+\\s+${node}`));
  assert.equal(await waitFor(fetchPage, 15_000), 'hello from the configmap');
  const listed = await dockerPs(['label=io.kubernetes.pod.name=web']);
  assert.ok(listed.length >= 2, 'the sandbox and the app container are listed by label');

  // docker kill of the app container: restarted, RESTARTS goes up.
  const first = await appContainer();
  await run('docker', ['kill', first]);
  await waitFor(async () => (await podField('web', '{.status.containerStatuses[0].restartCount}')) === '1', 60_000);
  await waitFor(async () => (await podField('web', '{.status.phase}')) === 'Running' && (await fetchPage()) !== '', 30_000);
  const running = await appContainer();
  assert.notEqual(running, first);

  // Stop cloudcore, restart edgecore: the same container keeps running and serving.
  await cloud.stop();
  await edge.stop();
  writeEdgeConfig('');
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await new Promise((r) => setTimeout(r, 8000));
  assert.equal(await appContainer(), running, 'the container was adopted, not recreated');
  assert.equal(await fetchPage(), 'hello from the configmap');

  // Cloud back: Running, RESTARTS unchanged.
  cloud = startDaemon('cloudcore', ['--config', cloudConfig], path.join(dir, 'cloudcore.log'));
  await waitFor(async () => (await get(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 60_000);
  assert.equal(await podField('web', '{.status.phase}'), 'Running');
  assert.equal(await podField('web', '{.status.containerStatuses[0].restartCount}'), '1');
  assert.equal(await appContainer(), running);

  // A pod whose image does not exist: ErrImagePull / ImagePullBackOff with Docker's message; the web pod keeps serving.
  await get(['run', 'ghost', '--image=local/does-not-exist:1', '--restart=Never', `--overrides={"spec":{"nodeName":"${node}"}}`]);
  const reason = await waitFor(async () => {
    const r = await podField('ghost', '{.status.containerStatuses[0].state.waiting.reason}');
    return r === 'ErrImagePull' || r === 'ImagePullBackOff' ? r : '';
  }, 60_000);
  t.diagnostic(`ghost pod: ${reason}: ${await podField('ghost', '{.status.containerStatuses[0].state.waiting.message}')}`);
  // Docker's own words: with no registry reachable it names the registry it could not reach.
  const { stderr: dockerSays } = await run('docker', ['pull', 'local/does-not-exist:1']).catch((e: { stderr: string }) => e);
  const shown = await podField('ghost', '{.status.containerStatuses[0].state.waiting.message}');
  const dockerText = dockerSays.trim().replace(/^Error response from daemon: /, '');
  assert.ok(dockerText !== '' && shown.includes(dockerText), `status message "${shown}" carries Docker's "${dockerText}"`);
  assert.equal(await fetchPage(), 'hello from the configmap');

  // kubectl delete pod: containers gone within grace (5 s) + 10 s, and the pod gone from the API.
  const deleting = Date.now();
  await get(['delete', 'pod', 'web', '--wait=false']);
  await waitFor(async () => (await dockerPs(['label=io.kubernetes.pod.name=web', `label=io.kubeedge-ts.node=${node}`])).length === 0, 15_000);
  t.diagnostic(`containers gone ${Date.now() - deleting} ms after kubectl delete`);
  await waitFor(async () => !(await get(['get', 'pods', '-o', 'name'])).includes('pod/web'), 15_000);
  await get(['delete', 'pod', 'ghost', '--wait=false']);
  passed();
});

test('a pod deleted while its edge is away is removed from the edge when it comes back', { skip, timeout: 180_000 }, async () => {
  assert.ok(cloud !== undefined && edge !== undefined, 'runs on the cluster of the previous test');
  await get([
    'run',
    'lonely',
    `--image=${BUSYBOX_IMAGE}`,
    '--image-pull-policy=IfNotPresent',
    '--restart=Always',
    `--overrides={"spec":{"nodeName":"${node}","terminationGracePeriodSeconds":2}}`,
    '--command',
    '--',
    'sleep',
    '3600',
  ]);
  await waitFor(async () => (await podField('lonely', '{.status.phase}')) === 'Running', 30_000);
  const containers = () => dockerPs(['label=io.kubernetes.pod.name=lonely', `label=io.kubeedge-ts.node=${node}`]);
  assert.ok((await containers()).length >= 2);

  await edge?.stop();
  await get(['delete', 'pod', 'lonely', '--wait=false']);
  assert.ok((await containers()).length >= 2, 'nothing on the edge changes while it is away');
  assert.notEqual(await podField('lonely', '{.metadata.deletionTimestamp}'), '', 'the pod waits for its edge to confirm');

  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await containers()).length === 0, 60_000);
  await waitFor(async () => !(await get(['get', 'pods', '-o', 'name'])).includes('pod/lonely'), 30_000);
});
