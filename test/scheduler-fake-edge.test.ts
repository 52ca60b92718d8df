// The cloud side of test/scheduler-edge.test.ts where Docker cannot run: a real cloudcore process (embedded API
// server, scheduler, node lifecycle controller, EdgeController's node monitor) and a fake edge, edgemark's
// simulated node (bench/edgemark/sim-node.ts: KubeEdge's protocol, certificates, Lease, pod acks; it runs no
// container). `kubectl run` lands on it; cut off, it goes Unknown and is tainted, its pods stay bound; back,
// the cloud deletes or recreates nothing.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SimNode, type SimConfig } from '../bench/edgemark/sim-node.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { quietLog } from './helpers/cloudhub.ts';
import type { Daemon } from './helpers/daemon.ts';
import { tailLogsOnFailure } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-sched-fake-'));
const node = 'fake-edge-1';
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;
let edge: SimNode | undefined;

after(async () => {
  edge?.stop();
  await cloud?.stop();
});

test('fake edge (edgemark node): kubectl run lands on it; cut off it goes Unknown and keeps its pods; back, nothing is deleted or recreated', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
  const tc = await startTestCloud(dir, ports, '  edgeController: {nodeMonitorGracePeriod: 6}\n');
  cloud = tc.daemon;
  const get = (args: string[]) => kubectl(tc.kubeconfig, args);
  const field = async (kind: string, name: string, jsonpath: string) => (await get(['get', kind, name, '-o', `jsonpath=${jsonpath}`])).trim();
  const writes: string[] = [];
  const config: SimConfig = {
    server: `127.0.0.1:${ports.ws}`,
    httpServer: `https://127.0.0.1:${ports.https}`,
    token: tc.token,
    projectId: 'e632aba927ea4ac2b575ec1603d56f10',
    certDir: path.join(dir, 'edge'),
    heartbeatSec: 15,
    statusPeriodMs: 10_000,
    statusReportMs: 5 * 60_000,
    leaseDurationSec: 4,
    requestTimeoutMs: 10_000,
    redialMs: [500, 1000],
    log: quietLog('fake-edge'),
  };
  const events = {
    connected: () => {},
    statusAccepted: () => {},
    cloudWrite: (_n: SimNode, op: string, resource: string) => {
      if (resource.includes('/pod/')) writes.push(`${op} ${resource}`);
    },
  };
  const join = async (): Promise<SimNode> => {
    const n = new SimNode(node, 1, config, events);
    await n.enrol();
    assert.ok(await n.connect(), 'the fake edge connects');
    return n;
  };
  edge = await join();
  const ready = () => field('node', node, '{.status.conditions[?(@.type=="Ready")].status}');
  await waitFor(async () => (await ready()) === 'True', 30_000);

  await get(['run', 'roamer', '--image=busybox']);
  await waitFor(async () => (await field('pod', 'roamer', '{.status.phase}')) === 'Running', 30_000);
  assert.equal(await field('pod', 'roamer', '{.spec.nodeName}'), node);
  assert.deepEqual(writes, ['insert default/pod/roamer'], 'the pod went to the edge once');
  const uid = await field('pod', 'roamer', '{.metadata.uid}');

  edge.stop();
  await waitFor(async () => (await ready()) === 'Unknown', 60_000);
  const taints = await waitFor(async () => {
    const s = await field('node', node, '{range .spec.taints[*]}{.key}:{.effect} {end}');
    return s.includes('unreachable:NoExecute') ? s : '';
  }, 30_000);
  assert.match(taints, /node\.kubernetes\.io\/unreachable:NoSchedule/);
  // A second pod now has nowhere to go, and says so as kube-scheduler would.
  await get(['run', 'late', '--image=busybox']);
  const msg = await waitFor(() => field('pod', 'late', '{.status.conditions[?(@.type=="PodScheduled")].message}'), 30_000);
  assert.match(msg, /^0\/1 nodes are available: 1 node\(s\) had untolerated taint \{node\.kubernetes\.io\/unreachable: \}\. /);
  assert.equal(await field('pod', 'roamer', '{.metadata.uid}'), uid);
  assert.equal(await field('pod', 'roamer', '{.metadata.deletionTimestamp}'), '');

  edge = await join();
  await waitFor(async () => (await ready()) === 'True', 60_000);
  await waitFor(async () => !(await field('node', node, '{.spec.taints[*].key}')).includes('node.kubernetes.io/'), 30_000);
  // The waiting pod follows the node's return; the first one is the same pod, never deleted.
  assert.equal(await waitFor(() => field('pod', 'late', '{.spec.nodeName}'), 30_000), node);
  assert.equal(await field('pod', 'roamer', '{.metadata.uid}'), uid);
  assert.equal(await field('pod', 'roamer', '{.metadata.deletionTimestamp}'), '');
  assert.ok(!writes.some((w) => w.startsWith('delete')), `no delete reached the edge: ${writes.join(', ')}`);
  passed();
});
