// Issue 10, "What it must show", first bullet, against a cloudcore started from the sources and two real edgecore
// processes running pods through a real dockerd: `kubectl create deployment` reaches the edge nodes, `set image`
// rolls the pods one by one, `rollout undo` goes back, `scale --replicas=0` removes them. Needs the embedded
// scheduler (pods of a Deployment name no node) and the API server's protobuf create and scale subresource.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
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
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-workloads-'));
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
const suffix = `${process.pid}`;
const nodes = [`edge-wl-${suffix}-1`, `edge-wl-${suffix}-2`];
// A second tag of the local busybox for `set image`: no registry is reachable.
const IMAGE_2 = 'local/busybox:rollout-2';
let cloud: Daemon | undefined;
const edges: Daemon[] = [];

after(async () => {
  for (const e of edges) await e.stop();
  await cloud?.stop();
  for (const n of nodes) {
    const left = await dockerPs([`label=io.kubeedge-ts.node=${n}`]).catch(() => []);
    if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  }
});

type PodRow = { name: string; node: string; phase: string; ready: boolean; image: string; deleting: boolean };

test('kubectl create deployment reaches the edge nodes; set image rolls one by one; rollout undo; scale to 0', { skip, timeout: 600_000 }, async (t) => {
  const logs = [path.join(dir, 'cloudcore.log'), ...nodes.map((n) => path.join(dir, `${n}.log`))];
  const passed = tailLogsOnFailure(t, logs);
  await ensureTestImages();
  await run('docker', ['tag', BUSYBOX_IMAGE, IMAGE_2]);
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  const get = (args: string[], timeoutMs?: number) => kubectl(tc.kubeconfig, args, timeoutMs);
  for (const n of nodes) {
    const edgeDir = path.join(dir, n);
    mkdirSync(edgeDir, { recursive: true });
    const cfg = path.join(edgeDir, 'edgecore.yaml');
    writeTestEdgeConfig(cfg, { dir: edgeDir, node: n, token: tc.token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
    edges.push(startDaemon('edgecore', ['--config', cfg], path.join(dir, `${n}.log`)));
  }
  for (const n of nodes) {
    await waitFor(async () => (await get(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 60_000);
  }

  const pods = async (): Promise<PodRow[]> => {
    const out = JSON.parse(await get(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as {
      items: Array<{
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string; containers: Array<{ image: string }> };
        status?: { phase?: string; conditions?: Array<{ type: string; status: string }> };
      }>;
    };
    return out.items.map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      phase: p.status?.phase ?? '',
      ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      image: p.spec.containers[0]?.image ?? '',
      deleting: p.metadata.deletionTimestamp !== undefined,
    }));
  };
  const runningOnEdges = async (image: string): Promise<boolean> => {
    const ps = (await pods()).filter((p) => !p.deleting);
    return ps.length === 3 && ps.every((p) => p.phase === 'Running' && p.ready && nodes.includes(p.node) && p.image === image);
  };

  await get(['create', 'deployment', 'web', `--image=${BUSYBOX_IMAGE}`, '--replicas=3', '--', 'httpd', '-f', '-p', '8080']);
  await get(['patch', 'deployment', 'web', '-p', JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'node-role.kubernetes.io/edge': '' } } } } })]);
  await get(['rollout', 'status', 'deployment/web', '--timeout=180s'], 200_000);
  await waitFor(() => runningOnEdges(BUSYBOX_IMAGE), 60_000, 1000);
  const wide = await get(['get', 'pods', '-o', 'wide']);
  t.diagnostic(wide);
  for (const p of await pods()) {
    const running = await dockerPs([`label=io.kubernetes.pod.name=${p.name}`, `label=io.kubeedge-ts.node=${p.node}`, 'status=running']);
    assert.ok(running.length >= 2, `${p.name} runs in Docker on ${p.node} (sandbox and app)`);
  }

  // set image: with 3 replicas the defaults (25 % surge up = 1, 25 % unavailable down = 0) roll one pod at a time.
  let maxPods = 0;
  let minReady = 3;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const ps = (await pods().catch(() => undefined))?.filter((p) => !p.deleting);
      if (ps !== undefined) {
        maxPods = Math.max(maxPods, ps.length);
        minReady = Math.min(minReady, ps.filter((p) => p.ready).length);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await get(['set', 'image', 'deployment/web', `busybox=${IMAGE_2}`]);
  await get(['rollout', 'status', 'deployment/web', '--timeout=240s'], 260_000);
  sampling = false;
  await sampler;
  await waitFor(() => runningOnEdges(IMAGE_2), 60_000, 1000);
  assert.ok(maxPods <= 4, `never more than 3 + 1 surge pods (saw ${maxPods})`);
  assert.equal(minReady, 3, 'never fewer than 3 ready pods during the roll');
  const history = await get(['rollout', 'history', 'deployment/web']);
  assert.match(history, /^3\s/m);

  // rollout undo: back to the previous template (the edge nodeSelector, the first image).
  await get(['rollout', 'undo', 'deployment/web']);
  await get(['rollout', 'status', 'deployment/web', '--timeout=240s'], 260_000);
  await waitFor(() => runningOnEdges(BUSYBOX_IMAGE), 60_000, 1000);

  // scale to 0: no pod in the API, no container of them on the edges.
  const last = await pods();
  await get(['scale', 'deployment/web', '--replicas=0']);
  await waitFor(async () => (await pods()).length === 0, 120_000, 1000);
  for (const p of last) {
    await waitFor(async () => (await dockerPs([`label=io.kubernetes.pod.name=${p.name}`, `label=io.kubeedge-ts.node=${p.node}`])).length === 0, 60_000, 1000);
  }
  passed();
});
