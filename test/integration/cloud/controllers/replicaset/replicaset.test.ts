import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { quietLog } from '../../../../helpers/cloudhub.ts';
import { startControlPlane, startTestKubelet, type ControlPlaneTest, type TestKubelet } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import { Informer } from '../../../../../src/cloud/common/informers/informer.ts';
import { ownerRefsOf } from '../../../../../src/cloud/controllers/kit/objects.ts';
import { loadKubeConfig } from '../../../../../src/kube/client.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';

type List = { items: KubeObject[] };

function replicaSet(name: string, replicas: number, extra: string[] = []): string {
  return [
    'apiVersion: apps/v1',
    'kind: ReplicaSet',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  replicas: ${replicas}`,
    ...extra,
    '  selector:',
    '    matchLabels:',
    `      app: ${name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${name}`,
    '    spec:',
    '      containers:',
    '      - name: main',
    '        image: busybox:1',
    '',
  ].join('\n');
}

const alive = (p: KubeObject): boolean => p.metadata?.['deletionTimestamp'] === undefined;
type RsStatus = { replicas?: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number };

describe('replicaset controller (embedded control plane, real kubectl, test kubelet marks pods Ready)', {
  skip: skipUnless(kubectlPath() !== undefined, 'kubectl not found'),
}, () => {
  let cp: ControlPlaneTest;
  let kubelet: TestKubelet;
  const pods = async (app: string): Promise<KubeObject[]> =>
    (await cp.admin.get<List>(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).items.filter(alive);
  const status = async (name: string): Promise<RsStatus> =>
    ((await cp.admin.get(`/apis/apps/v1/namespaces/default/replicasets/${name}`))['status'] as RsStatus | undefined) ?? {};

  before(async () => {
    cp = await startControlPlane(['replicaset']);
    kubelet = startTestKubelet(cp.admin, { readyAfterMs: 200 });
  });
  after(async () => {
    await kubelet?.stop();
    await cp?.cleanup();
  });

  test('no double create under a burst of events: every pod ever created is one of the 30 asked for', async () => {
    const seen = new Set<string>();
    const watcher = new Informer({
      kc: loadKubeConfig({ kubeConfig: cp.api.kubeConfigPath }),
      kube: cp.admin,
      path: '/api/v1/pods',
      kind: 'Pod',
      apiVersion: 'v1',
      log: quietLog('burst-watch'),
    });
    watcher.addHandler((type, pod) => {
      if (type === 'add' && pod.metadata?.name?.startsWith('burst-') === true) seen.add(pod.metadata.name);
    });
    watcher.start();
    await watcher.synced;
    try {
      await kubectlOk(cp.api, ['apply', '-f', '-'], replicaSet('burst', 30));
      // Each of these writes wakes the controller while its creates are still arriving in its cache.
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          cp.admin.patch('/apis/apps/v1/namespaces/default/replicasets/burst', { metadata: { annotations: { poke: String(i) } } }, 'merge'),
        ),
      );
      await waitFor(async () => (await status('burst')).readyReplicas === 30, 30_000, 200);
      await new Promise((r) => setTimeout(r, 1000)); // later syncs must not add or remove pods either
      assert.equal((await pods('burst')).length, 30);
      assert.equal(seen.size, 30, `pods ever created: ${seen.size}`);
    } finally {
      watcher.stop();
    }
  });

  test('status counts replicas, fully labeled, ready and available; one SuccessfulCreate event per pod', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], replicaSet('counts', 7));
    const st = await waitFor(
      async () => {
        const s = await status('counts');
        return s.availableReplicas === 7 ? s : undefined;
      },
      30_000,
      200,
    );
    assert.deepEqual(st, { replicas: 7, fullyLabeledReplicas: 7, readyReplicas: 7, availableReplicas: 7, observedGeneration: 1 });
    const events = await kubectlOk(cp.api, ['get', 'events', '--field-selector', 'involvedObject.name=counts,reason=SuccessfulCreate', '-o', 'name']);
    assert.equal(events.trim().split('\n').length, 7);
    await kubectlOk(cp.api, ['delete', 'rs', 'counts']);
  });

  test('orphan pods that match are adopted; a pod relabelled out of the selector is released and replaced', async () => {
    await cp.admin.create('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'main', image: 'busybox:1' }] },
    });
    await kubectlOk(cp.api, ['apply', '-f', '-'], replicaSet('adopt', 2));
    await waitFor(async () => (await status('adopt')).readyReplicas === 2, 30_000, 200);
    const ps = await pods('adopt');
    assert.equal(ps.length, 2, 'the orphan counts towards replicas');
    const stray = ps.find((p) => p.metadata?.name === 'stray') as KubeObject;
    assert.equal(ownerRefsOf(stray)[0]?.name, 'adopt');
    assert.equal(ownerRefsOf(stray)[0]?.controller, true);

    await kubectlOk(cp.api, ['label', 'pod', 'stray', 'app=elsewhere', '--overwrite']);
    await waitFor(async () => ownerRefsOf(await cp.admin.get('/api/v1/namespaces/default/pods/stray')).length === 0, 15_000, 200);
    await waitFor(async () => (await pods('adopt')).length === 2 && (await status('adopt')).readyReplicas === 2, 15_000, 200);
  });

  test('scale down deletes not-ready pods before ready ones', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], replicaSet('rank', 2));
    await waitFor(async () => (await status('rank')).readyReplicas === 2, 30_000, 200);
    const readyNames = new Set((await pods('rank')).map((p) => p.metadata?.name));
    kubelet.setAdmit((p) => !(p.metadata?.name ?? '').startsWith('rank-'));
    try {
      await kubectlOk(cp.api, ['scale', 'rs', 'rank', '--replicas=4']);
      await waitFor(async () => (await pods('rank')).length === 4, 15_000, 200);
      await kubectlOk(cp.api, ['scale', 'rs', 'rank', '--replicas=2']);
      await waitFor(async () => (await pods('rank')).length === 2, 15_000, 200);
      assert.deepEqual(new Set((await pods('rank')).map((p) => p.metadata?.name)), readyNames);
    } finally {
      kubelet.setAdmit(() => true);
    }
  });

  test('minReadySeconds: ready pods count as available only after that long', async () => {
    await kubectlOk(cp.api, ['apply', '-f', '-'], replicaSet('slow', 2, ['  minReadySeconds: 3']));
    const st = await waitFor(
      async () => {
        const s = await status('slow');
        return s.readyReplicas === 2 ? s : undefined;
      },
      30_000,
      100,
    );
    assert.equal(st?.availableReplicas ?? 0, 0, 'ready but not yet available');
    await waitFor(async () => (await status('slow')).availableReplicas === 2, 15_000, 200);
  });
});
