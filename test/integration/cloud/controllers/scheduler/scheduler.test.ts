// The embedded scheduler against a real embedded API server, with real kubectl: Node objects created by the
// test (no kubelets), pods created as a user creates them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { type ControlPlaneTest, createTestNode, startControlPlane } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';

type Pod = { spec: { nodeName?: string }; status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } };

let cp: ControlPlaneTest;

before(async () => {
  cp = await startControlPlane(['scheduler']);
  await createTestNode(cp.admin, 'n1', { cpu: '2', labels: { zone: 'a' } });
  await createTestNode(cp.admin, 'n2', { cpu: '2', labels: { zone: 'b' } });
});

after(async () => {
  await cp?.cleanup();
});

async function pod(name: string): Promise<Pod> {
  return cp.admin.get<Pod>(`/api/v1/namespaces/default/pods/${name}`);
}

async function boundNode(name: string): Promise<string> {
  return waitFor(async () => (await pod(name)).spec.nodeName ?? '', 20_000, 100);
}

/** The PodScheduled=False message once the scheduler has given up on the pod for now. */
async function unschedulableMessage(name: string): Promise<string> {
  return waitFor(
    async () => {
      const c = (await pod(name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' && c.reason === 'Unschedulable' ? (c.message ?? '') : '';
    },
    20_000,
    100,
  );
}

function podYaml(name: string, spec: string, labels = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${labels === '' ? '' : `  labels: {${labels}}\n`}spec:
${spec}
`;
}

const container = (extra = '') => `  containers:
  - name: c
    image: busybox
${extra}`;
const cpu = (c: string) => container(`    resources: {requests: {cpu: "${c}"}}\n`);

async function deletePods(...names: string[]): Promise<void> {
  await kubectlOk(cp.api, ['delete', 'pod', ...names, '--wait=false']);
}

test('kubectl run without a node: the pod lands on a node that fits and the Scheduled event says where', async () => {
  await kubectlOk(cp.api, ['run', 'x', '--image=busybox']);
  const node = await boundNode('x');
  assert.ok(['n1', 'n2'].includes(node), node);
  const events = await waitFor(async () => {
    const out = await kubectlOk(cp.api, ['get', 'events', '--field-selector', 'involvedObject.name=x,reason=Scheduled', '-o', 'jsonpath={.items[*].message}']);
    return out.includes('Successfully') ? out : '';
  }, 20_000);
  assert.equal(events, `Successfully assigned default/x to ${node}`);
  await deletePods('x');
});

test('a pod requesting more CPU than any node has stays Pending with PodScheduled=False and a FailedScheduling event', async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('big', cpu('8')));
  const want = '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.';
  assert.equal(await unschedulableMessage('big'), want);
  const ev = await waitFor(
    () =>
      kubectlOk(cp.api, [
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=big,reason=FailedScheduling',
        '-o',
        'jsonpath={.items[*].type}: {.items[*].message}',
      ]),
    20_000,
  );
  assert.equal(ev, `Warning: ${want}`);
  assert.equal((await pod('big')).spec.nodeName, undefined);
  const describe = await kubectlOk(cp.api, ['describe', 'pod', 'big']);
  assert.match(describe, /FailedScheduling/);
});

test('nodeSelector and required node affinity (matchExpressions, matchFields) choose or reject as Kubernetes', async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('sel-b', `  nodeSelector: {zone: b}\n${container()}`));
  assert.equal(await boundNode('sel-b'), 'n2');
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('sel-c', `  nodeSelector: {zone: c}\n${container()}`));
  assert.equal(
    await unschedulableMessage('sel-c'),
    "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
  );
  const affinity = (term: string) => `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - ${term}
${container()}`;
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('aff-a', affinity('matchExpressions: [{key: zone, operator: In, values: [a]}]')));
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('aff-n2', affinity('matchFields: [{key: metadata.name, operator: In, values: [n2]}]')));
  assert.equal(await boundNode('aff-a'), 'n1');
  assert.equal(await boundNode('aff-n2'), 'n2');
  await deletePods('sel-b', 'sel-c', 'aff-a', 'aff-n2');
});

test('taints keep pods off a node unless they tolerate them', async () => {
  await kubectlOk(cp.api, ['taint', 'nodes', 'n1', 'dedicated=gpu:NoSchedule']);
  for (const n of ['t1', 't2', 't3']) await kubectlOk(cp.api, ['run', n, '--image=busybox']);
  for (const n of ['t1', 't2', 't3']) assert.equal(await boundNode(n), 'n2', `${n} avoids the tainted node`);
  const tolerating = `  nodeSelector: {zone: a}
  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
${container()}`;
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('tol', tolerating));
  assert.equal(await boundNode('tol'), 'n1');
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('notol', `  nodeSelector: {zone: a}\n${container()}`));
  assert.equal(
    await unschedulableMessage('notol'),
    "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
  );
  await kubectlOk(cp.api, ['taint', 'nodes', 'n1', 'dedicated=gpu:NoSchedule-']);
  assert.equal(await boundNode('notol'), 'n1', 'scheduled once the taint is gone');
  await deletePods('t1', 't2', 't3', 'tol', 'notol');
});

test('host ports conflict and pod anti-affinity by hostname spread pods, one per node', async () => {
  const hp = container('    ports: [{containerPort: 80, hostPort: 8080}]\n');
  for (const n of ['hp1', 'hp2', 'hp3']) await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml(n, hp));
  const nodes = [await boundNode('hp1'), await boundNode('hp2')];
  assert.deepEqual(nodes.sort(), ['n1', 'n2']);
  assert.match(await unschedulableMessage('hp3'), /^0\/2 nodes are available: 2 node\(s\) didn't have free ports for the requested pod ports\. /);
  const anti = `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: spread}}
        topologyKey: kubernetes.io/hostname
${container()}`;
  for (const n of ['s1', 's2', 's3']) await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml(n, anti, 'app: spread'));
  const spread = [await boundNode('s1'), await boundNode('s2')];
  assert.deepEqual(spread.sort(), ['n1', 'n2']);
  assert.match(await unschedulableMessage('s3'), /^0\/2 nodes are available: 2 node\(s\) didn't match pod anti-affinity rules\. /);
  await deletePods('hp1', 'hp2', 'hp3', 's1', 's2', 's3');
});

test('two pods that fit only one at a time never land on the same node', async () => {
  const pods = ['r1', 'r2', 'r3'].map((n) => podYaml(n, cpu('1500m'))).join('---\n');
  await kubectlOk(cp.api, ['apply', '-f', '-'], pods);
  const msg = await waitFor(
    async () => {
      for (const n of ['r1', 'r2', 'r3']) {
        const c = (await pod(n)).status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
        if (c !== undefined) return `${n}|${c.message}`;
      }
      return '';
    },
    20_000,
    100,
  );
  const [pending] = msg.split('|');
  const bound = ['r1', 'r2', 'r3'].filter((n) => n !== pending);
  const nodes = await Promise.all(bound.map((n) => boundNode(n)));
  assert.deepEqual(nodes.sort(), ['n1', 'n2']);
  assert.equal((await pod(pending ?? '')).spec.nodeName, undefined);
  assert.match(msg, /0\/2 nodes are available: 2 Insufficient cpu\./);
  await deletePods('r1', 'r2', 'r3');
});

test('cordon: new pods avoid the node; uncordon lets them back', async () => {
  await kubectlOk(cp.api, ['cordon', 'n1']);
  for (const n of ['c1', 'c2', 'c3']) await kubectlOk(cp.api, ['run', n, '--image=busybox']);
  for (const n of ['c1', 'c2', 'c3']) assert.equal(await boundNode(n), 'n2');
  await kubectlOk(cp.api, ['apply', '-f', '-'], podYaml('c4', `  nodeSelector: {zone: a}\n${container()}`));
  assert.match(await unschedulableMessage('c4'), /1 node\(s\) were unschedulable/);
  await kubectlOk(cp.api, ['uncordon', 'n1']);
  assert.equal(await boundNode('c4'), 'n1');
  await deletePods('c1', 'c2', 'c3', 'c4');
});

test('a cloudcore restart resumes: a pod created while it was down is scheduled, a pending one stays pending', async () => {
  await cp.stop();
  await kubectlOk(cp.api, ['run', 'while-down', '--image=busybox']);
  cp = await cp.restart();
  assert.ok(['n1', 'n2'].includes(await boundNode('while-down')));
  assert.match(await unschedulableMessage('big'), /2 Insufficient cpu/);
  assert.equal((await pod('big')).spec.nodeName, undefined);
  await deletePods('while-down');
});

test('a pending pod is scheduled when a node that fits joins', async () => {
  assert.equal((await pod('big')).spec.nodeName, undefined);
  await createTestNode(cp.admin, 'n3', { cpu: '16' });
  assert.equal(await boundNode('big'), 'n3');
  const r = await kubectl(cp.api, ['get', 'pod', 'big', '-o', 'jsonpath={.spec.nodeName}']);
  assert.equal(r.stdout, 'n3');
});
