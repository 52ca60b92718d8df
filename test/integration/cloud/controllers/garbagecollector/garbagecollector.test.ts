import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { startControlPlane, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { isNotFound, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';

const NS = 'default';

type Ref = { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean };
const refTo = (o: KubeObject): Ref => ({
  apiVersion: String(o.apiVersion),
  kind: String(o.kind),
  name: String(o.metadata?.name),
  uid: String(o.metadata?.uid),
  controller: true,
  blockOwnerDeletion: true,
});

async function exists(kube: KubeRest, path: string): Promise<boolean> {
  try {
    await kube.get(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

const deployPath = (n: string) => `/apis/apps/v1/namespaces/${NS}/deployments/${n}`;
const rsPath = (n: string) => `/apis/apps/v1/namespaces/${NS}/replicasets/${n}`;
const podPath = (n: string) => `/api/v1/namespaces/${NS}/pods/${n}`;

/**
 * A Deployment → ReplicaSet → 2 pods chain linked by ownerReferences, as the deployment controller would leave
 * it (built by hand: that controller is not part of this test). `podFinalizers` go on the pods, which keeps
 * them while the test looks.
 */
async function chain(kube: KubeRest, name: string, o: { podFinalizers?: string[] } = {}): Promise<{ deploy: KubeObject; rs: KubeObject; pods: KubeObject[] }> {
  const labels = { app: name };
  const deploy = await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const rs = await kube.create(`/apis/apps/v1/namespaces/${NS}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${name}-rs`,
      ownerReferences: [refTo({ ...deploy, apiVersion: 'apps/v1', kind: 'Deployment' })],
    },
    spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const pods: KubeObject[] = [];
  for (const i of [1, 2]) {
    pods.push(
      await kube.create(`/api/v1/namespaces/${NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-pod-${i}`,
          labels,
          ownerReferences: [refTo({ ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' })],
          ...(o.podFinalizers === undefined ? {} : { finalizers: o.podFinalizers }),
        },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      }),
    );
  }
  return { deploy, rs, pods };
}

async function dropFinalizers(kube: KubeRest, path: string): Promise<void> {
  await kube.patch(path, { metadata: { finalizers: null } }, 'merge');
}

describe('garbagecollector: ownerReferences with background, orphan and foreground propagation', () => {
  let cp: ControlPlaneTest;
  before(async () => {
    cp = await startControlPlane(['garbagecollector']);
  });
  after(async () => {
    await cp?.cleanup();
  });

  test('kubectl delete deployment (background): its ReplicaSet and that ReplicaSet’s pods are removed', async () => {
    const { rs } = await chain(cp.admin, 'bg');
    await kubectlOk(cp.api, ['delete', 'deployment', 'bg', '-n', NS]);
    await waitFor(async () => !(await exists(cp.admin, rsPath('bg-rs'))), 20_000);
    await waitFor(async () => !(await exists(cp.admin, podPath('bg-pod-1'))) && !(await exists(cp.admin, podPath('bg-pod-2'))), 20_000);
    assert.equal(rs.metadata?.name, 'bg-rs');
  });

  test('an owner of the same name but another uid counts as gone; a dependent whose owner is there stays', async () => {
    const { rs } = await chain(cp.admin, 'uid');
    const stray = await cp.admin.create(`/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'uid-stray',
        ownerReferences: [{ ...refTo({ ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' }), uid: '00000000-0000-0000-0000-00000000dead' }],
      },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    assert.equal(stray.metadata?.name, 'uid-stray');
    await waitFor(async () => !(await exists(cp.admin, podPath('uid-stray'))), 20_000);
    assert.ok(await exists(cp.admin, podPath('uid-pod-1')), 'the pod owned by the ReplicaSet that exists stays');
    assert.ok(await exists(cp.admin, rsPath('uid-rs')));
  });

  test('kubectl delete --cascade=orphan: the ReplicaSet stays, without its ownerReference; its pods stay', async () => {
    await chain(cp.admin, 'orph');
    await kubectlOk(cp.api, ['delete', 'deployment', 'orph', '-n', NS, '--cascade=orphan']);
    await waitFor(async () => !(await exists(cp.admin, deployPath('orph'))), 20_000);
    const rs = await cp.admin.get(rsPath('orph-rs'));
    assert.equal(rs.metadata?.['ownerReferences'], undefined);
    assert.equal(rs.metadata?.['deletionTimestamp'], undefined);
    for (const p of ['orph-pod-1', 'orph-pod-2']) {
      const pod = await cp.admin.get(podPath(p));
      assert.equal(((pod.metadata?.['ownerReferences'] as Ref[] | undefined) ?? [])[0]?.name, 'orph-rs', 'pods keep their owner, the ReplicaSet');
    }
  });

  test('kubectl delete --cascade=foreground: the Deployment stays until its dependents are gone, then goes', async () => {
    // the pods carry a finalizer of the test's, which keeps them (being deleted) until the test drops it
    await chain(cp.admin, 'fg', { podFinalizers: ['test.kubeedge.io/hold'] });
    await kubectlOk(cp.api, ['delete', 'deployment', 'fg', '-n', NS, '--cascade=foreground', '--wait=false']);
    // pods being deleted, held by their finalizer: the ReplicaSet and the Deployment wait for them
    await waitFor(async () => {
      const pods = await Promise.all(['fg-pod-1', 'fg-pod-2'].map((p) => cp.admin.get(podPath(p))));
      return pods.every((p) => typeof p.metadata?.['deletionTimestamp'] === 'string');
    }, 20_000);
    const deploy = await cp.admin.get(deployPath('fg'));
    assert.equal(typeof deploy.metadata?.['deletionTimestamp'], 'string');
    assert.deepEqual(deploy.metadata?.['finalizers'], ['foregroundDeletion']);
    const rs = await cp.admin.get(rsPath('fg-rs'));
    assert.equal(typeof rs.metadata?.['deletionTimestamp'], 'string', 'the ReplicaSet, blocking its owner, is deleted in foreground too');
    for (const p of ['fg-pod-1', 'fg-pod-2']) await dropFinalizers(cp.admin, podPath(p));
    await waitFor(async () => !(await exists(cp.admin, deployPath('fg'))), 20_000);
    assert.equal(await exists(cp.admin, rsPath('fg-rs')), false);
    assert.equal(await exists(cp.admin, podPath('fg-pod-1')), false);
  });

  test('custom resources: a Widget owned by a ConfigMap goes with it; pods owned by a Widget go with the Widget', async () => {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          ],
        },
      }),
    );
    const widgets = `/apis/example.com/v1/namespaces/${NS}/widgets`;
    await waitFor(() => exists(cp.admin, widgets), 20_000);
    const cm = await cp.admin.create(`/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'widget-owner' } });
    await cp.admin.create(widgets, {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'owned', ownerReferences: [refTo({ ...cm, apiVersion: 'v1', kind: 'ConfigMap' })] },
    });
    const owner = await cp.admin.create(widgets, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'owner' } });
    await cp.admin.create(`/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'widget-pod', ownerReferences: [refTo({ ...owner, apiVersion: 'example.com/v1', kind: 'Widget' })] },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await kubectlOk(cp.api, ['delete', 'configmap', 'widget-owner']);
    await waitFor(async () => !(await exists(cp.admin, `${widgets}/owned`)), 20_000);
    assert.ok(await exists(cp.admin, podPath('widget-pod')));
    await kubectlOk(cp.api, ['delete', 'widget', 'owner']);
    await waitFor(async () => !(await exists(cp.admin, podPath('widget-pod'))), 20_000);
  });

  test('a restart mid-way resumes: deletions made while the collector was down are carried out after it starts', async () => {
    await chain(cp.admin, 'rst');
    await chain(cp.admin, 'rsto');
    await cp.stop();
    await kubectlOk(cp.api, ['delete', 'deployment', 'rst', '-n', NS, '--wait=false']);
    await kubectlOk(cp.api, ['delete', 'deployment', 'rsto', '-n', NS, '--cascade=orphan', '--wait=false']);
    assert.ok(await exists(cp.admin, rsPath('rst-rs')), 'nothing collects while the collector is stopped');
    cp = await cp.restart();
    await waitFor(async () => !(await exists(cp.admin, rsPath('rst-rs'))) && !(await exists(cp.admin, podPath('rst-pod-1'))), 20_000);
    await waitFor(async () => !(await exists(cp.admin, deployPath('rsto'))), 20_000);
    const rs = await cp.admin.get(rsPath('rsto-rs'));
    assert.equal(rs.metadata?.['ownerReferences'], undefined);
  });
});
