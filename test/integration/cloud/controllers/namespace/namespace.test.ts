import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { startControlPlane, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { isNotFound, paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';

type Condition = { type: string; status: string; reason: string; message: string };

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

async function get(kube: KubeRest, path: string): Promise<KubeObject | undefined> {
  try {
    return await kube.get(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A namespace with a pod bound to a node (30 s grace), a ConfigMap and a Widget custom resource. */
async function fill(admin: KubeRest, ns: string, widgetFinalizers: string[] = []): Promise<void> {
  await admin.create(paths.namespaces(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await admin.create(paths.namespaced(ns, 'pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { nodeName: 'edge-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image: 'busybox' }] },
  });
  await admin.create(paths.namespaced(ns, 'configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } });
  await admin.create(`/apis/example.com/v1/namespaces/${ns}/widgets`, {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', ...(widgetFinalizers.length > 0 ? { finalizers: widgetFinalizers } : {}) },
    spec: { size: 3 },
  });
}

/** What the edge does once the containers stopped: the pod is deleted with grace 0 (test kubelet). */
async function testKubeletFinishPod(admin: KubeRest, ns: string, name: string): Promise<void> {
  try {
    await admin.delete(paths.namespaced(ns, 'pods', name), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

describe('namespace: a Terminating namespace is emptied (grace periods, finalizers, custom resources), then goes', () => {
  let cp: ControlPlaneTest;
  before(async () => {
    cp = await startControlPlane(['namespace']);
    await kubectlOk(cp.api, ['apply', '-f', '-'], JSON.stringify(CRD));
    await waitFor(async () => (await kubectl(cp.api, ['get', 'widgets', '-A'])).code === 0, 20_000);
  });
  after(async () => {
    await cp?.cleanup();
  });

  test('kubectl delete namespace: content deleted, pods within their grace period, conditions say what is left, then the namespace is gone', async () => {
    await fill(cp.admin, 'x', ['example.com/hold']);
    await kubectlOk(cp.api, ['delete', 'namespace', 'x', '--wait=false']);
    const ns = await waitFor(async () => {
      const n = await get(cp.admin, '/api/v1/namespaces/x');
      const conds = ((n?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
      const remaining = conds.find((c) => c.type === 'NamespaceContentRemaining');
      return remaining?.status === 'True' && /pods\. has 1 resource instances/.test(remaining.message) ? n : undefined;
    }, 20_000);
    const status = (ns?.['status'] ?? {}) as { phase?: string; conditions?: Condition[] };
    assert.equal(status.phase, 'Terminating');
    const conds = status.conditions ?? [];
    const fin = conds.find((c) => c.type === 'NamespaceFinalizersRemaining');
    assert.equal(fin?.status, 'True');
    assert.match(fin?.message ?? '', /example\.com\/hold in 1 resource instances/);
    assert.equal(await get(cp.admin, paths.namespaced('x', 'configmaps', 'cfg')), undefined, 'the ConfigMap is gone at once');
    const pod = await get(cp.admin, paths.namespaced('x', 'pods', 'web'));
    assert.equal(typeof pod?.metadata?.['deletionTimestamp'], 'string', 'the pod is terminating, within its grace period');
    assert.equal(pod?.metadata?.['deletionGracePeriodSeconds'], 30);
    const w = await get(cp.admin, '/apis/example.com/v1/namespaces/x/widgets/w1');
    assert.equal(typeof w?.metadata?.['deletionTimestamp'], 'string');
    // the edge stops the containers; the Widget's owner removes its finalizer
    await testKubeletFinishPod(cp.admin, 'x', 'web');
    await cp.admin.patch('/apis/example.com/v1/namespaces/x/widgets/w1', { metadata: { finalizers: null } }, 'merge');
    await waitFor(async () => (await get(cp.admin, '/api/v1/namespaces/x')) === undefined, 20_000);
    const r = await kubectl(cp.api, ['get', 'namespace', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/);
  });

  test('a namespace left Terminating while the controller was down is finished after a restart', async () => {
    await fill(cp.admin, 'y');
    await cp.stop();
    await kubectlOk(cp.api, ['delete', 'namespace', 'y', '--wait=false']);
    assert.ok(await get(cp.admin, paths.namespaced('y', 'configmaps', 'cfg')), 'nothing deleted while stopped');
    cp = await cp.restart();
    await waitFor(async () => typeof (await get(cp.admin, paths.namespaced('y', 'pods', 'web')))?.metadata?.['deletionTimestamp'] === 'string', 20_000);
    await testKubeletFinishPod(cp.admin, 'y', 'web');
    await waitFor(async () => (await get(cp.admin, '/api/v1/namespaces/y')) === undefined, 20_000);
    assert.equal(await get(cp.admin, '/apis/example.com/v1/namespaces/y/widgets/w1'), undefined);
  });
});
