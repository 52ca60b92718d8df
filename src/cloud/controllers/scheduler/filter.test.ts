import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { SchedulerCache } from './cache.ts';
import { filterNode, fitErrorMessage, pickNode, podFacts, scoreNodes } from './filter.ts';
import { parseQuantity, podRequests } from './resources.ts';

function node(name: string, o: { cpu?: string; labels?: Record<string, string>; taints?: unknown[]; ready?: string; pods?: string } = {}): KubeObject {
  const res = { cpu: o.cpu ?? '2', memory: '4Gi', pods: o.pods ?? '110' };
  return {
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints ?? [] },
    status: { allocatable: res, capacity: res, conditions: [{ type: 'Ready', status: o.ready ?? 'True' }] },
  };
}

function pod(name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: name, labels },
    spec: { containers: [{ name: 'c' }], ...spec },
    status: { phase: 'Pending' },
  };
}

const cpu = (c: string) => ({ containers: [{ name: 'c', resources: { requests: { cpu: c } } }] });

function reasonsFor(p: KubeObject, nodes: KubeObject[], bound: KubeObject[] = []): string[][] {
  const cache = new SchedulerCache();
  for (const b of bound) cache.onPod('add', b, undefined);
  const infos = cache.nodeInfos(nodes);
  const f = podFacts(p, infos, cache.anyAffinity);
  return infos.map((n) => filterNode(f, n));
}

test('quantities and pod requests: init containers count by their largest, limits stand in for requests', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('2e3'), 2000);
  assert.ok(Number.isNaN(parseQuantity('lots')));
  const r = podRequests(
    pod('p', {
      containers: [
        { name: 'a', resources: { requests: { cpu: '200m' } } },
        { name: 'b', resources: { limits: { cpu: '300m', memory: '1Mi' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '1', memory: '1Ki' } } }],
    }),
  );
  assert.equal(r.cpu, 1000);
  assert.equal(r.memory, 2 ** 20);
  assert.equal(r.pods, 1);
});

test('kube-scheduler message: reasons counted per node and sorted, no preemption', () => {
  const nodes = [node('a', { cpu: '1' }), node('b', { labels: { zone: 'x' } }), node('c', { labels: { zone: 'x' }, cpu: '1' })];
  const p = pod('big', { ...cpu('1500m'), nodeSelector: { zone: 'x' } });
  const msg = fitErrorMessage(3, reasonsFor(p, nodes));
  assert.equal(
    msg,
    "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  assert.deepEqual(reasonsFor(p, nodes)[1], []);
  assert.equal(fitErrorMessage(0, []), 'no nodes available to schedule pods');
});

test('taints, tolerations, not-ready nodes and cordon', () => {
  const tainted = node('t', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  assert.deepEqual(reasonsFor(pod('p'), [tainted])[0], ['node(s) had untolerated taint {dedicated: gpu}']);
  assert.deepEqual(reasonsFor(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] }), [tainted])[0], []);
  assert.deepEqual(reasonsFor(pod('p', { tolerations: [{ operator: 'Exists' }] }), [tainted])[0], []);
  assert.deepEqual(reasonsFor(pod('p'), [node('u', { ready: 'Unknown' })])[0], ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }']);
  const cordoned = { ...node('c'), spec: { unschedulable: true } };
  assert.deepEqual(reasonsFor(pod('p'), [cordoned])[0], ['node(s) were unschedulable']);
});

test('required node affinity with matchExpressions and matchFields; preferred affinity scores', () => {
  const nodes = [node('a', { labels: { disk: 'ssd', gen: '3' } }), node('b', { labels: { disk: 'hdd', gen: '5' } })];
  const req = (terms: unknown[]) => pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
  assert.deepEqual(
    reasonsFor(req([{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }]), nodes).map((r) => r.length),
    [1, 0],
  );
  assert.deepEqual(
    reasonsFor(req([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }]), nodes).map((r) => r.length),
    [0, 1],
  );
  const pref = pod('p', {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }] } }],
      },
    },
  });
  const cache = new SchedulerCache();
  const infos = cache.nodeInfos(nodes);
  const scores = scoreNodes(podFacts(pref, infos), infos);
  assert.ok((scores[1] ?? 0) > (scores[0] ?? 0));
});

test('resources count bound pods; pod count; host ports; anti-affinity against bound pods', () => {
  const n = node('a', { cpu: '1', pods: '2' });
  const bound = {
    ...pod('x', cpu('600m'), { app: 'web' }),
    spec: {
      ...cpu('600m'),
      nodeName: 'a',
      containers: [{ name: 'c', resources: { requests: { cpu: '600m' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }],
    },
  };
  assert.deepEqual(reasonsFor(pod('p', cpu('500m')), [n], [bound])[0], ['Insufficient cpu']);
  assert.deepEqual(reasonsFor(pod('p', cpu('400m')), [n], [bound])[0], []);
  const second = { ...pod('y', {}, {}), spec: { nodeName: 'a', containers: [{ name: 'c' }] } };
  assert.deepEqual(reasonsFor(pod('p'), [n], [bound, second])[0], ['Too many pods']);
  const port = pod('p', { containers: [{ name: 'c', ports: [{ containerPort: 81, hostPort: 8080 }] }] });
  assert.deepEqual(reasonsFor(port, [n], [bound])[0], ["node(s) didn't have free ports for the requested pod ports"]);
  const anti = pod('p', {
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    },
  });
  assert.deepEqual(reasonsFor(anti, [n, node('b')], [bound]), [["node(s) didn't match pod anti-affinity rules"], []]);
  const aff = pod('p', {
    affinity: {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    },
  });
  assert.deepEqual(reasonsFor(aff, [node('big', { cpu: '8' }), node('b')], [{ ...bound, spec: { ...bound.spec, nodeName: 'big' } }]), [
    [],
    ["node(s) didn't match pod affinity rules"],
  ]);
});

test('assumed pods hold their node until the informer confirms; ties are broken among the best', () => {
  const cache = new SchedulerCache();
  const n = node('a', { cpu: '1' });
  const first = pod('one', cpu('600m'));
  cache.assume(first, 'a');
  const infos = cache.nodeInfos([n]);
  assert.deepEqual(filterNode(podFacts(pod('two', cpu('600m')), infos), infos[0] as never), ['Insufficient cpu']);
  cache.onPod('update', { ...first, spec: { ...(first['spec'] as object), nodeName: 'a' } }, first);
  assert.equal(cache.nodeInfos([n])[0]?.pods.length, 1, 'confirmed, counted once');
  assert.equal(
    pickNode([1, 5, 5, 2], () => 0.99),
    1,
  );
  assert.equal(
    pickNode([1, 5, 5, 2], () => 0),
    2,
  );
});

test('scores: PreferNoSchedule taints, preferred pod affinity and least allocated steer the choice', () => {
  const cache = new SchedulerCache();
  const nodes = [node('a', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), node('b')];
  let infos = cache.nodeInfos(nodes);
  let s = scoreNodes(podFacts(pod('p'), infos), infos);
  assert.ok((s[1] ?? 0) > (s[0] ?? 0), 'the untainted node wins');

  const web = { ...pod('w', {}, { app: 'web' }), spec: { nodeName: 'a', containers: [{ name: 'c' }] } };
  cache.onPod('add', web, undefined);
  infos = cache.nodeInfos([node('a'), node('b')]);
  const near = pod('p', {
    affinity: {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    },
  });
  s = scoreNodes(podFacts(near, infos), infos);
  assert.ok((s[0] ?? 0) > (s[1] ?? 0), 'next to the pod it prefers, though that node is fuller');
  s = scoreNodes(podFacts(pod('q', cpu('500m')), infos), infos);
  assert.ok((s[1] ?? 0) > (s[0] ?? 0), 'without preferences the emptier node wins');
});

test('the cache follows pod changes: requests updated, a finished or deleted pod releases its node', () => {
  const cache = new SchedulerCache();
  const nodes = [node('a', { cpu: '4' }), node('b', { cpu: '4' })];
  const on = (n: string, c: string, phase = 'Running'): KubeObject => ({
    ...pod('x'),
    spec: { nodeName: n, containers: [{ name: 'c', resources: { requests: { cpu: c } } }] },
    status: { phase },
  });
  const cpuOf = () => cache.nodeInfos(nodes).map((i) => i.requested.cpu);
  cache.onPod('add', on('a', '1'), undefined);
  assert.deepEqual(cpuOf(), [1000, 0]);
  cache.onPod('update', on('a', '2'), on('a', '1'));
  assert.deepEqual(cpuOf(), [2000, 0]);
  cache.onPod('update', on('a', '2', 'Succeeded'), on('a', '2'));
  assert.deepEqual(cpuOf(), [0, 0]);
  cache.onPod('add', on('b', '3'), undefined);
  assert.deepEqual(cpuOf(), [0, 3000]);
  cache.onPod('delete', on('b', '3'), on('b', '3'));
  assert.deepEqual(cpuOf(), [0, 0]);
});
