import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { startBatchTestKubelet, startControlPlane, type BatchTestKubelet, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const EDGE = 'node-role.kubernetes.io/edge';

let cp: ControlPlaneTest;
let kubelet: BatchTestKubelet;
before(async () => {
  cp = await startControlPlane(['daemonset']);
  // A test scheduler and kubelet in one: binds each daemon pod to the node its affinity names, marks it Ready.
  kubelet = startBatchTestKubelet(cp.admin, { bindByAffinity: true });
  for (const [name, edge] of [
    ['edge-1', true],
    ['edge-2', true],
    ['cloud-1', false],
  ] as const) {
    await cp.admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: edge ? { [EDGE]: '' } : {} } });
  }
});
after(async () => {
  await kubelet?.stop();
  await cp?.cleanup();
});

function daemonSet(image: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { nodeSelector: { [EDGE]: '' }, containers: [{ name: 'agent', image }] },
      },
    },
  });
}

async function daemonPods(): Promise<KubeObject[]> {
  const list = await cp.admin.get<{ items: KubeObject[] }>('/api/v1/namespaces/default/pods?labelSelector=app%3Dagent');
  return list.items;
}

function nodeOf(p: KubeObject): string {
  return String((p['spec'] as { nodeName?: string }).nodeName ?? '');
}

function imageOf(p: KubeObject): string {
  return String((p['spec'] as { containers: Array<{ image: string }> }).containers[0]?.image);
}

async function podsByNode(): Promise<Map<string, KubeObject[]>> {
  const m = new Map<string, KubeObject[]>();
  for (const p of await daemonPods()) if (p.metadata?.['deletionTimestamp'] === undefined) m.set(nodeOf(p), [...(m.get(nodeOf(p)) ?? []), p]);
  return m;
}

test('a DaemonSet for edge nodes runs one pod on each edge node and none on the cloud node; rollout status returns', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], daemonSet('busybox:1'));
  const m = await waitFor(async () => {
    const byNode = await podsByNode();
    return byNode.get('edge-1')?.length === 1 && byNode.get('edge-2')?.length === 1 && byNode.size === 2 ? byNode : undefined;
  }, 30_000);
  assert.ok(m !== undefined);
  assert.equal(m.has('cloud-1'), false);
  const pod = m.get('edge-1')?.[0] as KubeObject;
  const spec = pod['spec'] as { affinity: unknown; tolerations: Array<{ key: string }> };
  assert.deepEqual(spec.affinity, {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['edge-1'] }] }] },
    },
  });
  assert.ok(
    spec.tolerations.some((t) => t.key === 'node.kubernetes.io/unreachable'),
    'the default daemon tolerations are added',
  );
  const out = await kubectlOk(cp.api, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  assert.match(out, /daemon set "agent" successfully rolled out/);
  const ds = JSON.parse(await kubectlOk(cp.api, ['get', 'ds', 'agent', '-o', 'json'])) as { status: Record<string, number> };
  assert.equal(ds.status['desiredNumberScheduled'], 2);
  assert.equal(ds.status['numberReady'], 2);
  assert.equal(ds.status['numberAvailable'], 2);
  assert.equal(ds.status['updatedNumberScheduled'], 2);
  assert.equal(ds.status['numberMisscheduled'], 0);
});

test('an edge node that joins gets its daemon pod within 15 s; a node that loses the label loses it', { skip }, async () => {
  await cp.admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-3', labels: { [EDGE]: '' } } });
  await waitFor(async () => (await podsByNode()).get('edge-3')?.length === 1, 15_000, 200);
  await cp.admin.patch('/api/v1/nodes/edge-2', { metadata: { labels: { [EDGE]: null } } }, 'merge');
  await waitFor(async () => (await daemonPods()).every((p) => nodeOf(p) !== 'edge-2'), 30_000);
  await kubectlOk(cp.api, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  const m = await podsByNode();
  assert.deepEqual([...m.keys()].sort(), ['edge-1', 'edge-3']);
});

test('kubectl set image rolls the daemon pods one node at a time; rollout history and undo work', { skip }, async () => {
  const before = await podsByNode();
  const desired = before.size;
  await kubectlOk(cp.api, ['set', 'image', 'ds/agent', 'agent=busybox:2']);
  let worst = desired;
  await waitFor(
    async () => {
      const pods = (await daemonPods()).filter((p) => p.metadata?.['deletionTimestamp'] === undefined);
      const ready = pods.filter((p) =>
        (p['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.some(
          (c) => c.type === 'Ready' && c.status === 'True',
        ),
      );
      worst = Math.min(worst, ready.length);
      return pods.length === desired && pods.every((p) => imageOf(p) === 'busybox:2') && ready.length === desired;
    },
    60_000,
    50,
  );
  assert.ok(worst >= desired - 1, `at most one node was without a ready daemon pod during the update (lowest ready count ${worst} of ${desired})`);
  await kubectlOk(cp.api, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  const history = await kubectlOk(cp.api, ['rollout', 'history', 'ds/agent']);
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+\S+\n2\s+\S+/);
  await kubectlOk(cp.api, ['rollout', 'undo', 'ds/agent']);
  await waitFor(async () => {
    const pods = (await daemonPods()).filter((p) => p.metadata?.['deletionTimestamp'] === undefined);
    return pods.length === desired && pods.every((p) => imageOf(p) === 'busybox:1');
  }, 60_000);
  await kubectlOk(cp.api, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  const after = await kubectlOk(cp.api, ['rollout', 'history', 'ds/agent']);
  assert.match(after, /\n2\s+\S+\n3\s+\S+/, 'undo makes revision 1 the newest, as revision 3');
});

test('after a cloudcore restart the DaemonSet keeps its pods (no pod is recreated)', { skip }, async () => {
  const names = (await daemonPods()).map((p) => p.metadata?.name).sort();
  cp = await cp.restart();
  await kubectlOk(cp.api, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  // Give the restarted controller time to act on everything it listed, then compare.
  await cp.admin.patch('/apis/apps/v1/namespaces/default/daemonsets/agent', { metadata: { annotations: { poke: '1' } } }, 'merge');
  await waitFor(async () => {
    const ds = await cp.admin.get<{ metadata: { generation: number }; status: { observedGeneration: number } }>(
      '/apis/apps/v1/namespaces/default/daemonsets/agent',
    );
    return ds.status.observedGeneration === ds.metadata.generation;
  }, 30_000);
  assert.deepEqual((await daemonPods()).map((p) => p.metadata?.name).sort(), names);
  const r = await kubectl(cp.api, ['get', 'controllerrevisions', '-l', 'app=agent', '-o', 'name']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim().split('\n').length, 2);
});

function dsNamed(name: string, strategy: Record<string, unknown>, nodeSelector: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: strategy,
      template: { metadata: { labels: { app: name } }, spec: { nodeSelector, containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  });
}

async function podsOf(app: string): Promise<KubeObject[]> {
  const list = await cp.admin.get<{ items: KubeObject[] }>(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`);
  return list.items.filter((p) => p.metadata?.['deletionTimestamp'] === undefined);
}

const isReady = (p: KubeObject): boolean =>
  ((p['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

async function settled(name: string): Promise<void> {
  await waitFor(async () => {
    const ds = await cp.admin.get<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>(
      `/apis/apps/v1/namespaces/default/daemonsets/${name}`,
    );
    return ds.status?.observedGeneration === ds.metadata.generation;
  }, 30_000);
}

test('maxSurge 1: the new pod on a node is ready before the old one goes, so every node keeps a ready daemon', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], dsNamed('surge', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }));
  const nodes = (await cp.admin.get<{ items: KubeObject[] }>('/api/v1/nodes')).items.length;
  await waitFor(async () => {
    const ps = await podsOf('surge');
    return ps.length === nodes && ps.every(isReady);
  }, 30_000);
  await kubectlOk(cp.api, ['set', 'image', 'ds/surge', 'c=busybox:2']);
  let fewestReady = nodes;
  let most = nodes;
  await waitFor(
    async () => {
      const ps = await podsOf('surge');
      fewestReady = Math.min(fewestReady, ps.filter(isReady).length);
      most = Math.max(most, ps.length);
      return ps.length === nodes && ps.every((p) => imageOf(p) === 'busybox:2' && isReady(p));
    },
    60_000,
    50,
  );
  assert.ok(fewestReady >= nodes, `never fewer than ${nodes} ready daemon pods (saw ${fewestReady})`);
  assert.ok(most <= nodes + 1, `at most one surge pod at a time (saw ${most} pods)`);
  await kubectlOk(cp.api, ['rollout', 'status', 'ds/surge', '--timeout=60s']);
});

test('OnDelete: a new template reaches a node only when its pod is deleted', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], dsNamed('manual', { type: 'OnDelete' }, { [EDGE]: '' }));
  await waitFor(async () => {
    const ps = await podsOf('manual');
    return ps.length === 2 && ps.every(isReady);
  }, 30_000);
  await kubectlOk(cp.api, ['set', 'image', 'ds/manual', 'c=busybox:2']);
  await settled('manual');
  const before = await podsOf('manual');
  assert.ok(
    before.every((p) => imageOf(p) === 'busybox:1'),
    'running pods are left alone',
  );
  const victim = before[0] as KubeObject;
  await cp.admin.delete(`/api/v1/namespaces/default/pods/${victim.metadata?.name}`);
  await waitFor(async () => {
    const ps = await podsOf('manual');
    return ps.length === 2 && ps.some((p) => nodeOf(p) === nodeOf(victim) && imageOf(p) === 'busybox:2' && isReady(p));
  }, 30_000);
  const other = (await podsOf('manual')).find((p) => nodeOf(p) !== nodeOf(victim)) as KubeObject;
  assert.equal(imageOf(other), 'busybox:1');
  const ds = await cp.admin.get<{ status: Record<string, number> }>('/apis/apps/v1/namespaces/default/daemonsets/manual');
  assert.equal(ds.status['updatedNumberScheduled'], 1);
});
