// kubectl cordon/drain against the embedded control plane (scheduler + nodelifecycle): drain evicts through
// pods/eviction, which honours PodDisruptionBudgets. Nodes and their kubelet are test stand-ins (Node objects,
// pod statuses and deletion confirmations posted by the test).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import {
  type ControlPlaneTest,
  createTestNode,
  startControlPlane,
  testKubeletConfirmDeletions,
  testKubeletMarkRunning,
} from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';

let cp: ControlPlaneTest;
let kubelet: { stop(): void } | undefined;

before(async () => {
  cp = await startControlPlane(['scheduler', 'nodelifecycle']);
  await createTestNode(cp.admin, 'd1');
  await createTestNode(cp.admin, 'd2');
  kubelet = testKubeletConfirmDeletions(cp.admin, 'd1');
});

after(async () => {
  kubelet?.stop();
  await cp?.cleanup();
});

async function podsOn(node: string): Promise<string[]> {
  const out = await kubectlOk(cp.api, ['get', 'pods', '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out
    .split(' ')
    .filter((s) => s !== '')
    .sort();
}

test('drain with a PodDisruptionBudget that allows no disruption is blocked and says why; without it the pods are evicted', async () => {
  // Two pods of a ReplicaSet (kubectl drain wants a controller behind each pod), bound to d1, Running and Ready.
  await kubectlOk(
    cp.api,
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
`,
  );
  const rsUid = (await kubectlOk(cp.api, ['get', 'rs', 'web', '-o', 'jsonpath={.metadata.uid}'])).trim();
  for (const n of ['web-a', 'web-b']) {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata:
  name: ${n}
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: ${rsUid}, controller: true}]
spec:
  nodeName: d1
  containers: [{name: c, image: busybox}]
`,
    );
  }
  await testKubeletMarkRunning(cp.admin, 'd1');
  await kubectlOk(
    cp.api,
    ['apply', '-f', '-'],
    `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`,
  );
  await waitFor(async () => (await kubectlOk(cp.api, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.currentHealthy}'])) === '2', 20_000);

  const blocked = await kubectl(cp.api, ['drain', 'd1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=8s']);
  assert.notEqual(blocked.code, 0, 'drain fails while the budget allows no disruption');
  assert.match(blocked.stderr + blocked.stdout, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.deepEqual(await podsOn('d1'), ['web-a', 'web-b'], 'no pod was evicted');
  assert.equal(await kubectlOk(cp.api, ['get', 'node', 'd1', '-o', 'jsonpath={.spec.unschedulable}']), 'true', 'drain cordoned the node');
  // nodelifecycle follows the cordon with the unschedulable taint.
  await waitFor(
    async () => (await kubectlOk(cp.api, ['get', 'node', 'd1', '-o', 'jsonpath={.spec.taints[*].key}'])).includes('node.kubernetes.io/unschedulable'),
    20_000,
  );

  // A new pod avoids the cordoned node.
  await kubectlOk(cp.api, ['run', 'newcomer', '--image=busybox']);
  assert.equal(await waitFor(() => kubectlOk(cp.api, ['get', 'pod', 'newcomer', '-o', 'jsonpath={.spec.nodeName}']), 20_000), 'd2');

  await kubectlOk(cp.api, ['delete', 'pdb', 'web']);
  const drained = await kubectlOk(cp.api, ['drain', 'd1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
  assert.match(drained, /pod\/web-a evicted/);
  assert.match(drained, /pod\/web-b evicted/);
  assert.match(drained, /node\/d1 drained/);
  assert.deepEqual(await podsOn('d1'), []);

  await kubectlOk(cp.api, ['uncordon', 'd1']);
  await waitFor(async () => !(await kubectlOk(cp.api, ['get', 'node', 'd1', '-o', 'jsonpath={.spec.taints[*].key}'])).includes('unschedulable'), 20_000);
});
