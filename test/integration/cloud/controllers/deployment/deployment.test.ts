import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { startControlPlane, startTestKubelet, type ControlPlaneTest, type TestKubelet } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';
import { annotationsOf, labelsOf, ownerRefsOf } from '../../../../../src/cloud/controllers/kit/objects.ts';

type List = { items: KubeObject[] };
type Dep = KubeObject & { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } }; status?: Record<string, unknown> };

function deployment(name: string, replicas: number, image: string, extra: string[] = []): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  replicas: ${replicas}`,
    '  selector:',
    '    matchLabels:',
    `      app: ${name}`,
    ...extra,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${name}`,
    '    spec:',
    '      containers:',
    '      - name: main',
    `        image: ${image}`,
    '',
  ].join('\n');
}

const rolling = (surge: number, unavailable: number): string[] => [
  '  strategy:',
  '    type: RollingUpdate',
  '    rollingUpdate:',
  `      maxSurge: ${surge}`,
  `      maxUnavailable: ${unavailable}`,
];

type Cond = { type: string; status: string; reason: string };
const conditionsOf = (d: KubeObject): Cond[] => (d['status'] as { conditions?: Cond[] } | undefined)?.conditions ?? [];
const alive = (p: KubeObject): boolean => p.metadata?.['deletionTimestamp'] === undefined;
const ready = (p: KubeObject): boolean =>
  ((p['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
const imageOf = (p: KubeObject): string => (p['spec'] as { containers: Array<{ image: string }> }).containers[0]?.image ?? '';

describe('deployment controller (embedded control plane, real kubectl, test kubelet marks pods Ready)', {
  skip: skipUnless(kubectlPath() !== undefined, 'kubectl not found'),
}, () => {
  let cp: ControlPlaneTest;
  let kubelet: TestKubelet;
  const pods = async (app: string): Promise<KubeObject[]> => (await cp.admin.get<List>(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).items;
  const replicaSets = async (app: string): Promise<KubeObject[]> =>
    (await cp.admin.get<List>(`/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D${app}`)).items;
  const getDep = (name: string): Promise<Dep> => cp.admin.get<Dep>(`/apis/apps/v1/namespaces/default/deployments/${name}`);
  const rolledOut = async (name: string): Promise<void> => {
    await kubectlOk(cp.api, ['rollout', 'status', `deployment/${name}`, '--timeout=60s']);
  };

  before(async () => {
    cp = await startControlPlane(['deployment', 'replicaset']);
    kubelet = startTestKubelet(cp.admin, { readyAfterMs: 300 });
  });
  after(async () => {
    await kubelet?.stop();
    await cp?.cleanup();
  });

  test('a Deployment of 3 gets one ReplicaSet it owns and 3 pods; rollout status exits 0', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('web', 3, 'busybox:1'));
    await rolledOut('web');
    const rss = await replicaSets('web');
    assert.equal(rss.length, 1);
    const rs = rss[0] as KubeObject;
    const d = await getDep('web');
    const refs = rs.metadata?.['ownerReferences'] as Array<{ uid: string; controller: boolean; kind: string }>;
    assert.deepEqual(
      refs.map((r) => [r.kind, r.uid, r.controller]),
      [['Deployment', d.metadata?.uid, true]],
    );
    const hash = labelsOf(rs)['pod-template-hash'];
    assert.equal(rs.metadata?.name, `web-${hash}`);
    assert.equal(annotationsOf(rs)['deployment.kubernetes.io/revision'], '1');
    const ps = (await pods('web')).filter(alive);
    assert.equal(ps.length, 3);
    for (const p of ps) {
      assert.match(p.metadata?.name ?? '', new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      assert.equal(ownerRefsOf(p)[0]?.name, rs.metadata?.name);
    }
    assert.equal(d.status?.['availableReplicas'], 3);
    const conds = conditionsOf(d);
    assert.deepEqual(conds.map((c) => `${c.type}=${c.status}/${c.reason}`).sort(), [
      'Available=True/MinimumReplicasAvailable',
      'Progressing=True/NewReplicaSetAvailable',
    ]);
    const events = await kubectlOk(cp.api, [
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Deployment,involvedObject.name=web',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(events, new RegExp(`Scaled up replica set web-${hash} from 0 to 3`));
    const described = await kubectlOk(cp.api, ['describe', 'deployment', 'web']);
    assert.match(described, new RegExp(`NewReplicaSet:\\s+web-${hash} \\(3/3 replicas created\\)`));
    assert.match(described, /Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/);
  });

  test('kubectl set image rolls within maxSurge and maxUnavailable (sampled), then rollout history lists both revisions', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('roll', 4, 'busybox:1', rolling(1, 1)));
    await rolledOut('roll');
    let maxPods = 0;
    let minReady = Number.POSITIVE_INFINITY;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = (await pods('roll')).filter(alive);
        maxPods = Math.max(maxPods, ps.length);
        minReady = Math.min(minReady, ps.filter(ready).length);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await kubectlOk(cp.api, ['set', 'image', 'deployment/roll', 'main=busybox:2']);
    await rolledOut('roll');
    sampling = false;
    await sampler;
    const ps = (await pods('roll')).filter(alive);
    assert.deepEqual(ps.map(imageOf), ['busybox:2', 'busybox:2', 'busybox:2', 'busybox:2']);
    assert.ok(maxPods <= 5, `never more than replicas+maxSurge = 5 pods (saw ${maxPods})`);
    assert.ok(minReady >= 3, `never fewer than replicas-maxUnavailable = 3 ready (saw ${minReady})`);
    const rss = await replicaSets('roll');
    assert.equal(rss.length, 2);
    const history = await kubectlOk(cp.api, ['rollout', 'history', 'deployment/roll']);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    const rev2 = await kubectlOk(cp.api, ['rollout', 'history', 'deployment/roll', '--revision=2']);
    assert.match(rev2, /busybox:2/);
  });

  test('kubectl rollout undo returns to the old template: the old ReplicaSet is scaled back up with the next revision', async () => {
    const before = await replicaSets('roll');
    const oldRS = before.find((rs) => (rs['spec'] as { replicas: number }).replicas === 0) as KubeObject;
    await kubectlOk(cp.api, ['rollout', 'undo', 'deployment/roll']);
    await rolledOut('roll');
    const ps = (await pods('roll')).filter(alive);
    assert.deepEqual(ps.map(imageOf), ['busybox:1', 'busybox:1', 'busybox:1', 'busybox:1']);
    const after = await replicaSets('roll');
    assert.equal(after.length, 2, 'the old ReplicaSet is reused, no third one');
    const reused = after.find((rs) => rs.metadata?.name === oldRS.metadata?.name) as KubeObject;
    assert.equal((reused['spec'] as { replicas: number }).replicas, 4);
    const ann = reused.metadata?.['annotations'] as Record<string, string>;
    assert.equal(ann['deployment.kubernetes.io/revision'], '3');
    assert.equal(ann['deployment.kubernetes.io/revision-history'], '1');
    const d = await getDep('roll');
    assert.equal(annotationsOf(d)['deployment.kubernetes.io/revision'], '3');
  });

  test('rollout pause holds a template change; resume rolls it', async () => {
    await kubectlOk(cp.api, ['rollout', 'pause', 'deployment/roll']);
    await waitFor(async () => conditionsOf(await getDep('roll')).some((c) => c.reason === 'DeploymentPaused'), 15_000, 100);
    await kubectlOk(cp.api, ['set', 'image', 'deployment/roll', 'main=busybox:3']);
    await new Promise((r) => setTimeout(r, 1500)); // time in which an unpaused Deployment would have started rolling
    assert.equal((await replicaSets('roll')).length, 2, 'no new ReplicaSet while paused');
    assert.ok((await pods('roll')).filter(alive).every((p) => imageOf(p) === 'busybox:1'));
    await kubectlOk(cp.api, ['rollout', 'resume', 'deployment/roll']);
    await rolledOut('roll');
    const ps = (await pods('roll')).filter(alive);
    assert.deepEqual(ps.map(imageOf), ['busybox:3', 'busybox:3', 'busybox:3', 'busybox:3']);
  });

  test('rollout restart replaces every pod with a new ReplicaSet', async () => {
    const beforeNames = new Set((await pods('roll')).filter(alive).map((p) => p.metadata?.name));
    await kubectlOk(cp.api, ['rollout', 'restart', 'deployment/roll']);
    await waitFor(async () => (await getDep('roll')).status?.['observedGeneration'] === (await getDep('roll')).metadata?.['generation'], 15_000, 100);
    await rolledOut('roll');
    const ps = (await pods('roll')).filter(alive);
    assert.equal(ps.length, 4);
    for (const p of ps) {
      assert.ok(!beforeNames.has(p.metadata?.name), `${p.metadata?.name} is a new pod`);
      assert.ok(annotationsOf(p)['kubectl.kubernetes.io/restartedAt']);
    }
  });

  test('revisionHistoryLimit: old ReplicaSets beyond the limit are deleted', async () => {
    await kubectlOk(cp.api, ['patch', 'deployment', 'roll', '-p', '{"spec":{"revisionHistoryLimit":1}}']);
    await waitFor(async () => (await replicaSets('roll')).length === 2, 20_000, 200);
  });

  test('kubectl scale to 0 removes the pods; scale up brings them back in the same ReplicaSet', async () => {
    await kubectlOk(cp.api, ['scale', 'deployment/web', '--replicas=0']);
    await waitFor(async () => (await pods('web')).length === 0, 20_000, 200);
    await rolledOut('web');
    await kubectlOk(cp.api, ['scale', 'deployment/web', '--replicas=2']);
    await rolledOut('web');
    assert.equal((await pods('web')).filter(alive).length, 2);
    assert.equal((await replicaSets('web')).length, 1, 'scaling is not a rollout');
    const events = await kubectlOk(cp.api, [
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Deployment,involvedObject.name=web',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(events, /Scaled down replica set web-\w+ from 3 to 0/);
    assert.match(events, /Scaled up replica set web-\w+ from 0 to 2/);
  });

  test('kubectl create deployment (protobuf body) gets its pods', async () => {
    await kubectlOk(cp.api, ['create', 'deployment', 'made', '--image=busybox:1', '--replicas=2', '--', 'httpd', '-f', '-p', '8080']);
    await rolledOut('made');
    assert.equal((await pods('made')).filter(alive).length, 2);
  });

  test('Recreate: every old pod is gone before a new one is created', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('rec', 3, 'busybox:1', ['  strategy:', '    type: Recreate']));
    await rolledOut('rec');
    let mixed = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const images = new Set((await pods('rec')).map(imageOf));
        if (images.size > 1) mixed = true;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await kubectlOk(cp.api, ['set', 'image', 'deployment/rec', 'main=busybox:2']);
    await rolledOut('rec');
    sampling = false;
    await sampler;
    assert.equal(mixed, false, 'old and new pods never exist at once');
    assert.deepEqual((await pods('rec')).map(imageOf), ['busybox:2', 'busybox:2', 'busybox:2']);
  });

  test('kubectl scale during a stuck rollout shares the new replicas between old and new ReplicaSets by size', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('prop', 10, 'busybox:1', rolling(3, 2)));
    await rolledOut('prop');
    kubelet.setAdmit((p) => imageOf(p) !== 'busybox:held');
    try {
      await kubectlOk(cp.api, ['set', 'image', 'deployment/prop', 'main=busybox:held']);
      // 10 + 3 surge = 13 pods; 8 old must stay available (10 - 2), so old 8 / new 5, and there it stays.
      const sizes = async (): Promise<number[]> =>
        (await replicaSets('prop'))
          .sort((a, b) => String(a.metadata?.['creationTimestamp']).localeCompare(String(b.metadata?.['creationTimestamp'])))
          .map((rs) => (rs['spec'] as { replicas: number }).replicas);
      await waitFor(async () => JSON.stringify(await sizes()) === '[8,5]', 20_000, 200);
      await kubectlOk(cp.api, ['scale', 'deployment/prop', '--replicas=20']);
      // 20 + 3 surge = 23 pods: the 10 more shared 8:5 as the 13 were (Kubernetes' proportional scaling).
      const after = await waitFor(
        async () => {
          const x = await sizes();
          return x[0] !== 8 && x.reduce((a, b) => a + b, 0) === 23 ? x : undefined;
        },
        20_000,
        200,
      );
      assert.deepEqual(after, [14, 9]);
    } finally {
      kubelet.setAdmit(() => true);
    }
    await rolledOut('prop');
    assert.equal((await pods('prop')).filter(alive).length, 20);
  });

  test('a rollout that cannot progress reports ProgressDeadlineExceeded and rollout status fails', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('stuck', 2, 'busybox:1', ['  progressDeadlineSeconds: 2']));
    await rolledOut('stuck');
    kubelet.setAdmit((p) => imageOf(p) !== 'busybox:bad');
    try {
      await kubectlOk(cp.api, ['set', 'image', 'deployment/stuck', 'main=busybox:bad']);
      const d = await waitFor(
        async () => {
          const x = await getDep('stuck');
          const c = conditionsOf(x).find((y) => y.type === 'Progressing');
          return c?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
        },
        30_000,
        200,
      );
      assert.equal(d?.status, 'False');
      const r = await kubectl(cp.api, ['rollout', 'status', 'deployment/stuck', '--timeout=20s']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /exceeded its progress deadline/);
    } finally {
      kubelet.setAdmit(() => true);
    }
  });
});

describe('deployment controller across a cloudcore restart (embedded control plane, test kubelet)', {
  skip: skipUnless(kubectlPath() !== undefined, 'kubectl not found'),
}, () => {
  let cp: ControlPlaneTest;
  let kubelet: TestKubelet;
  before(async () => {
    cp = await startControlPlane(['deployment', 'replicaset']);
    kubelet = startTestKubelet(cp.admin, { readyAfterMs: 800 });
  });
  after(async () => {
    await kubelet?.stop();
    await cp?.cleanup();
  });

  test('a restart mid-rollout continues the rollout without duplicate pods or ReplicaSets', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], deployment('mid', 6, 'busybox:1', rolling(1, 0)));
    await kubectlOk(cp.api, ['rollout', 'status', 'deployment/mid', '--timeout=60s']);
    let maxPods = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // cp.admin is replaced by the restart: a request cut by it is only a missed sample.
        const ps = (await cp.admin.get<List>('/api/v1/namespaces/default/pods?labelSelector=app%3Dmid').catch(() => ({ items: [] }))).items.filter(alive);
        maxPods = Math.max(maxPods, ps.length);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await kubectlOk(cp.api, ['set', 'image', 'deployment/mid', 'main=busybox:2']);
    await waitFor(
      async () => (await cp.admin.get<List>('/api/v1/namespaces/default/pods?labelSelector=app%3Dmid')).items.some((p) => imageOf(p) === 'busybox:2'),
      20_000,
      50,
    );
    cp = await cp.restart();
    await kubectlOk(cp.api, ['rollout', 'status', 'deployment/mid', '--timeout=90s']);
    sampling = false;
    await sampler;
    const ps = (await cp.admin.get<List>('/api/v1/namespaces/default/pods?labelSelector=app%3Dmid')).items.filter(alive);
    assert.equal(ps.length, 6);
    assert.ok(ps.every((p) => imageOf(p) === 'busybox:2'));
    assert.ok(maxPods <= 7, `never more than replicas+maxSurge = 7 pods (saw ${maxPods})`);
    const rss = (await cp.admin.get<List>('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dmid')).items;
    assert.equal(rss.length, 2);
  });
});
