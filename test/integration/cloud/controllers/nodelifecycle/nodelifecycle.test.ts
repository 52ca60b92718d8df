// The node lifecycle controller against a real embedded API server: Node objects created by the test, their
// Ready condition set as a kubelet (or EdgeController's node monitor, for Unknown) would set it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { type ControlPlaneTest, createTestNode, setTestNodeReady, startControlPlane, testKubeletMarkRunning } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';

type Taint = { key: string; effect: string; timeAdded?: string };
type Pod = { metadata: { uid: string; deletionTimestamp?: string }; status?: { conditions?: Array<{ type: string; status: string }> } };

const EDGE = { 'node-role.kubernetes.io/edge': '' };
let cp: ControlPlaneTest;

before(async () => {
  cp = await startControlPlane(['nodelifecycle']);
  await createTestNode(cp.admin, 'edge1', { labels: EDGE });
  await createTestNode(cp.admin, 'edge-optin', { labels: { ...EDGE, 'kubeedge.io/evict-pods-when-unreachable': 'true' } });
  await createTestNode(cp.admin, 'worker1');
});

after(async () => {
  await cp?.cleanup();
});

async function taints(node: string): Promise<string[]> {
  const n = await cp.admin.get<{ spec?: { taints?: Taint[] } }>(`/api/v1/nodes/${node}`);
  return (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
}

async function getPod(name: string): Promise<Pod | undefined> {
  try {
    return await cp.admin.get<Pod>(`/api/v1/namespaces/default/pods/${name}`);
  } catch {
    return undefined;
  }
}

/** A pod bound to `node` by the test (as a user naming its node), tolerating unreachable for `seconds` if given. */
async function boundPod(name: string, node: string, seconds?: number): Promise<string> {
  const tolerations =
    seconds === undefined
      ? ''
      : `  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: ${seconds}}
`;
  await kubectlOk(
    cp.api,
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
${tolerations}  containers: [{name: c, image: busybox}]
`,
  );
  await testKubeletMarkRunning(cp.admin, node);
  return (await getPod(name))?.metadata.uid ?? '';
}

const UNREACHABLE = ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'];

test('a node going Unknown gets the unreachable taints; edge pods stay bound, a non-edge pod is evicted after its toleration', async () => {
  const edgeUid = await boundPod('edge-short', 'edge1', 2);
  const edgeNoTolUid = await boundPod('edge-none', 'edge1');
  await boundPod('optin', 'edge-optin', 2);
  await boundPod('worker-short', 'worker1', 2);
  for (const n of ['edge1', 'edge-optin', 'worker1']) await setTestNodeReady(cp.admin, n, 'Unknown');
  for (const n of ['edge1', 'edge-optin', 'worker1'])
    assert.deepEqual(await waitFor(async () => ((await taints(n)).length === 2 ? taints(n) : undefined), 20_000), UNREACHABLE);

  // The pods of an Unknown node are marked not Ready, as Kubernetes does (status only).
  await waitFor(async () => (await getPod('edge-short'))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 20_000);

  // The non-edge pod and the opted-in edge node's pod go once their 2 s toleration is over ...
  await waitFor(async () => (await getPod('worker-short'))?.metadata.deletionTimestamp !== undefined, 30_000);
  await waitFor(async () => (await getPod('optin'))?.metadata.deletionTimestamp !== undefined, 30_000);
  // ... the edge node's pods stay, the one that mentions no toleration (300 s elsewhere) included.
  // A cloudcore restart re-reads everything and still evicts no edge pod: once the restarted controller has
  // evicted a new non-edge pod, it has been through every node.
  cp = await cp.restart();
  await boundPod('worker-after', 'worker1', 1);
  await waitFor(async () => (await getPod('worker-after'))?.metadata.deletionTimestamp !== undefined, 30_000);
  for (const [name, uid] of [
    ['edge-short', edgeUid],
    ['edge-none', edgeNoTolUid],
  ] as const) {
    const p = await getPod(name);
    assert.equal(p?.metadata.uid, uid, `${name} is the same pod`);
    assert.equal(p?.metadata.deletionTimestamp, undefined, `${name} is not being deleted`);
  }
  const events = await kubectlOk(cp.api, [
    'get',
    'events',
    '--field-selector',
    'reason=TaintManagerEviction',
    '-o',
    'jsonpath={.items[*].involvedObject.name}',
  ]);
  assert.deepEqual(events.split(' ').sort(), ['optin', 'worker-after', 'worker-short']);

  // Ready again: the taints go.
  await setTestNodeReady(cp.admin, 'edge1', 'True');
  assert.deepEqual(await waitFor(async () => ((await taints('edge1')).length === 0 ? ['gone'] : undefined), 20_000), ['gone']);
  await setTestNodeReady(cp.admin, 'worker1', 'False');
  assert.deepEqual(await waitFor(async () => ((await taints('worker1')).some((t) => t.includes('not-ready')) ? taints('worker1') : undefined), 20_000), [
    'node.kubernetes.io/not-ready:NoExecute',
    'node.kubernetes.io/not-ready:NoSchedule',
  ]);
});

test('cordon adds the unschedulable taint, uncordon removes it; taints of others are kept', async () => {
  await kubectlOk(cp.api, ['taint', 'nodes', 'edge1', 'team=a:PreferNoSchedule']);
  await kubectlOk(cp.api, ['cordon', 'edge1']);
  assert.deepEqual(await waitFor(async () => ((await taints('edge1')).length === 2 ? taints('edge1') : undefined), 20_000), [
    'node.kubernetes.io/unschedulable:NoSchedule',
    'team:PreferNoSchedule',
  ]);
  await kubectlOk(cp.api, ['uncordon', 'edge1']);
  assert.deepEqual(await waitFor(async () => ((await taints('edge1')).length === 1 ? taints('edge1') : undefined), 20_000), ['team:PreferNoSchedule']);
});
