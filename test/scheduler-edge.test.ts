// Issue 10's scheduler and node lifecycle on a real edge: real cloudcore (embedded API server, its scheduler and
// node lifecycle controller) and edgecore processes, the real kubectl and dockerd with local images. `kubectl run`
// without a node lands on the edge and runs; the edge cut off (edgecore stopped, its containers left running) goes
// Unknown and gets the unreachable taints, yet its pods stay bound and keep running; back, nothing is recreated.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-sched-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-sched-1';
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
const edgeConfig = path.join(dir, 'edgecore.yaml');
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const field = async (kind: string, name: string, jsonpath: string) => (await get(['get', kind, name, '-o', `jsonpath=${jsonpath}`])).trim();
const ready = () => field('node', node, '{.status.conditions[?(@.type=="Ready")].status}');
/** The running app container id of a pod (`kubectl run` names its container as the pod; `docker ps` without -a). */
const containers = async (pod: string) => {
  const filters = [`label=io.kubernetes.pod.name=${pod}`, `label=io.kubernetes.container.name=${pod}`, `label=io.kubeedge-ts.node=${node}`];
  const { stdout } = await run('docker', ['ps', '--no-trunc', '-q', ...filters.flatMap((f) => ['--filter', f])]);
  return stdout.trim();
};

function runPod(name: string, overrides: string): Promise<string> {
  return get(['run', name, `--image=${BUSYBOX_IMAGE}`, '--image-pull-policy=IfNotPresent', `--overrides=${overrides}`, '--command', '--', 'sleep', '3600']);
}

test('kubectl run lands on the edge and runs; an edge cut off keeps its pods bound and running; back, none is recreated', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  // A short grace period so the cut-off edge goes Unknown within seconds, not 40.
  const tc = await startTestCloud(dir, ports, '  edgeController: {nodeMonitorGracePeriod: 6}\n');
  cloud = tc.daemon;
  writeTestEdgeConfig(edgeConfig, { dir, node, token: tc.token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await ready()) === 'True', 60_000);

  // No nodeName: the scheduler puts the pods on the only node, the edge. One tolerates unreachable for 1 s only,
  // which on any other node would evict it a second after the node went Unknown.
  await runPod('roamer', '{"spec":{"terminationGracePeriodSeconds":2}}');
  await runPod(
    'brief',
    '{"spec":{"terminationGracePeriodSeconds":2,"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":1}]}}',
  );
  for (const p of ['roamer', 'brief']) {
    await waitFor(async () => (await field('pod', p, '{.status.phase}')) === 'Running', 60_000);
    assert.equal(await field('pod', p, '{.spec.nodeName}'), node);
  }
  assert.match(
    await get(['get', 'events', '--field-selector', 'involvedObject.name=roamer,reason=Scheduled', '-o', 'jsonpath={.items[*].message}']),
    new RegExp(`Successfully assigned default/roamer to ${node}`),
  );
  const before = {
    roamer: { uid: await field('pod', 'roamer', '{.metadata.uid}'), container: await waitFor(() => containers('roamer'), 30_000) },
    brief: { uid: await field('pod', 'brief', '{.metadata.uid}'), container: await waitFor(() => containers('brief'), 30_000) },
  };

  // edgecore stopped, its containers not: the node goes Unknown and gets the unreachable taints.
  await edge.stop();
  await waitFor(async () => (await ready()) === 'Unknown', 60_000);
  const taints = await waitFor(async () => {
    const s = await field('node', node, '{range .spec.taints[*]}{.key}:{.effect} {end}');
    return s.includes('unreachable:NoExecute') ? s : '';
  }, 30_000);
  assert.match(taints, /node\.kubernetes\.io\/unreachable:NoSchedule/);
  // Its pods are marked not Ready (status only), as Kubernetes does.
  await waitFor(async () => (await field('pod', 'roamer', '{.status.conditions[?(@.type=="Ready")].status}')) === 'False', 30_000);
  // Well past the 1 s toleration: still bound, not being deleted, containers still running on the host.
  await new Promise((r) => setTimeout(r, 8000));
  for (const p of ['roamer', 'brief'] as const) {
    assert.equal(await field('pod', p, '{.metadata.uid}'), before[p].uid, `${p} is the same pod`);
    assert.equal(await field('pod', p, '{.metadata.deletionTimestamp}'), '', `${p} is not being deleted`);
    assert.equal(await field('pod', p, '{.spec.nodeName}'), node);
    assert.equal(await containers(p), before[p].container, `${p}'s container keeps running`);
  }
  const evictions = await get(['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'name']);
  assert.equal(evictions.trim(), '');

  // Back: Ready, the taints go, the same pods run in the same containers.
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await ready()) === 'True', 60_000);
  await waitFor(async () => !(await field('node', node, '{.spec.taints[*].key}')).includes('node.kubernetes.io/'), 30_000);
  for (const p of ['roamer', 'brief'] as const) {
    await waitFor(async () => (await field('pod', p, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 60_000);
    assert.equal(await field('pod', p, '{.metadata.uid}'), before[p].uid);
    assert.equal(await containers(p), before[p].container, `${p} was not recreated`);
    assert.equal(await field('pod', p, '{.status.containerStatuses[0].restartCount}'), '0');
  }
  passed();
});
