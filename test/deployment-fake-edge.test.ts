// The cloud side of test/workloads-e2e.test.ts where Docker cannot run: a real cloudcore process (embedded API
// server, Deployment and ReplicaSet controllers, scheduler) and two fake edges, edgemark's simulated nodes
// (bench/edgemark/sim-node.ts: KubeEdge's protocol, certificates, Lease; they report pods Running and Ready and
// confirm deletions, running no container). `kubectl create deployment` lands on them, `set image` rolls one pod at
// a time, `rollout undo` goes back, `scale --replicas=0` removes the pods. Needs the scheduler (wt-sched).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SimNode, type SimConfig } from '../bench/edgemark/sim-node.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { quietLog } from './helpers/cloudhub.ts';
import { tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-deploy-fake-'));
const nodes = ['fake-edge-d1', 'fake-edge-d2'];
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;
const edges: SimNode[] = [];

after(async () => {
  for (const e of edges) e.stop();
  await cloud?.stop();
});

type PodRow = { name: string; node: string; phase: string; ready: boolean; image: string; deleting: boolean };

test('fake edges (edgemark nodes): kubectl create deployment lands on them, set image rolls one by one, rollout undo, scale to 0', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  const get = (args: string[], timeoutMs?: number) => kubectl(tc.kubeconfig, args, timeoutMs);
  const config: SimConfig = {
    server: `127.0.0.1:${ports.ws}`,
    httpServer: `https://127.0.0.1:${ports.https}`,
    token: tc.token,
    projectId: 'e632aba927ea4ac2b575ec1603d56f10',
    certDir: path.join(dir, 'edges'),
    heartbeatSec: 15,
    statusPeriodMs: 10_000,
    statusReportMs: 5 * 60_000,
    leaseDurationSec: 40,
    requestTimeoutMs: 10_000,
    redialMs: [500, 1000],
    log: quietLog('fake-edge'),
  };
  const events = { connected: () => {}, statusAccepted: () => {}, cloudWrite: () => {} };
  for (const [i, n] of nodes.entries()) {
    const e = new SimNode(n, i, config, events);
    await e.enrol();
    assert.ok(await e.connect(), `${n} connects`);
    edges.push(e);
  }
  for (const n of nodes) {
    await waitFor(async () => (await get(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 30_000);
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

  await get(['create', 'deployment', 'web', '--image=local/busybox:1', '--replicas=3', '--', 'httpd', '-f', '-p', '8080']);
  await get(['patch', 'deployment', 'web', '-p', JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'node-role.kubernetes.io/edge': '' } } } } })]);
  await get(['rollout', 'status', 'deployment/web', '--timeout=120s'], 130_000);
  await waitFor(() => runningOnEdges('local/busybox:1'), 30_000, 500);
  t.diagnostic(await get(['get', 'pods', '-o', 'wide']));

  // Defaults for 3 replicas: surge 1 (25 % up), unavailable 0 (25 % down): one pod at a time.
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
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await get(['set', 'image', 'deployment/web', 'busybox=local/busybox:2']);
  const status = await get(['rollout', 'status', 'deployment/web', '--timeout=120s'], 130_000);
  sampling = false;
  await sampler;
  assert.match(status, /deployment "web" successfully rolled out/);
  await waitFor(() => runningOnEdges('local/busybox:2'), 30_000, 500);
  assert.ok(maxPods <= 4, `never more than 3 + 1 surge pods (saw ${maxPods})`);
  assert.equal(minReady, 3, 'never fewer than 3 ready pods during the roll');
  const history = await get(['rollout', 'history', 'deployment/web']);
  assert.match(history, /^1\s/m);
  assert.match(history, /^3\s/m);

  await get(['rollout', 'undo', 'deployment/web']);
  await get(['rollout', 'status', 'deployment/web', '--timeout=120s'], 130_000);
  await waitFor(() => runningOnEdges('local/busybox:1'), 30_000, 500);

  await get(['scale', 'deployment/web', '--replicas=0']);
  await waitFor(async () => (await pods()).length === 0, 60_000, 500);
  assert.match(await get(['get', 'deployment', 'web']), /web\s+0\/0\s+0\s+0/);
  passed();
});
