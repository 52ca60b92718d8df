import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestServer } from '../../../../helpers/apiserver.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';
import { makePki, type LinkPki } from '../../../../helpers/cloudhub.ts';
import { createNode, FakeEdge, newApi, podManifest, sleep, startStack, type CloudStack } from '../../../../helpers/downstream.ts';

describe('edgecontroller downstream over a real cloudhub (fake edges that ack)', () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;
  let a: FakeEdge;
  let b: FakeEdge;

  before(async () => {
    pki = await makePki();
    ({ api, kube } = await newApi());
    await createNode(kube, 'edge-a', true);
    await createNode(kube, 'edge-b', true);
    await createNode(kube, 'worker-1', false);
    stack = await startStack(api, pki);
    a = await FakeEdge.connect(stack.port, pki, 'edge-a');
    b = await FakeEdge.connect(stack.port, pki, 'edge-b');
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('a pod bound to an edge node reaches only that node, as insert with kind and rv header', async () => {
    const created = await kube.create(paths.namespaced('default', 'pods'), podManifest('web', 'edge-a'));
    const m = await a.waitFor('default/pod/web', 'insert');
    const content = m.content as KubeObject;
    assert.equal(content.kind, 'Pod');
    assert.equal(content.apiVersion, 'v1');
    assert.equal(content.metadata?.uid, created.metadata?.uid);
    assert.equal(m.header.resourceversion, created.metadata?.resourceVersion);
    assert.equal(m.route.source, 'edgecontroller');
    assert.equal(m.route.group, 'resource');
    await sleep(300);
    assert.equal(b.about('default/pod/web').length, 0, 'edge-b must not see edge-a pods');
  });

  test('a pod on a non-edge node reaches nobody', async () => {
    await kube.create(paths.namespaced('default', 'pods'), podManifest('cloud-pod', 'worker-1'));
    // A later pod on edge-b proves the watch has moved past the worker pod.
    await kube.create(paths.namespaced('default', 'pods'), podManifest('marker', 'edge-b'));
    await b.waitFor('default/pod/marker', 'insert');
    await sleep(200);
    assert.equal(a.about('default/pod/cloud-pod').length + b.about('default/pod/cloud-pod').length, 0);
  });

  test('a ConfigMap used by a pod is pushed as update on change; an unused one is never sent', async () => {
    await kube.create(paths.namespaced('default', 'configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'used' }, data: { mode: 'alpha' } });
    await kube.create(paths.namespaced('default', 'configmaps'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unused' },
      data: { mode: 'alpha' },
    });
    await kube.create(paths.namespaced('default', 'pods'), podManifest('with-cm', 'edge-a', { configMap: 'used' }));
    await a.waitFor('default/pod/with-cm', 'insert');
    const patched = await kube.patch(paths.namespaced('default', 'configmaps', 'used'), { data: { mode: 'beta' } }, 'merge');
    await kube.patch(paths.namespaced('default', 'configmaps', 'unused'), { data: { mode: 'beta' } }, 'merge');
    const m = await a.waitFor('default/configmap/used', 'update');
    assert.equal(m.header.resourceversion, patched.metadata?.resourceVersion);
    assert.deepEqual((m.content as { data: unknown }).data, { mode: 'beta' });
    assert.equal((m.content as KubeObject).kind, 'ConfigMap');
    await sleep(300);
    assert.equal(a.about('default/configmap/unused').length + b.about('default/configmap/unused').length, 0);
    assert.equal(b.about('default/configmap/used').length, 0, 'edge-b runs no pod using it');
  });

  test('a Secret referenced through env valueFrom is pushed as update', async () => {
    await kube.create(paths.namespaced('default', 'secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pw' }, data: { password: 'czNjcjN0' } });
    await kube.create(paths.namespaced('default', 'pods'), podManifest('with-secret', 'edge-b', { secret: 'pw' }));
    await b.waitFor('default/pod/with-secret', 'insert');
    await kube.patch(paths.namespaced('default', 'secrets', 'pw'), { data: { password: 'bmV3' } }, 'merge');
    const m = await b.waitFor('default/secret/pw', 'update');
    assert.equal((m.content as KubeObject).kind, 'Secret');
    assert.equal(a.about('default/secret/pw').length, 0);
  });

  test('a status-only change sends nothing to the edge, not even from a sync pass; a label change sends an update', async () => {
    await kube.create(paths.namespaced('default', 'pods'), podManifest('reporter', 'edge-a'));
    await a.waitFor('default/pod/reporter', 'insert');
    await sleep(200); // the ack is recorded
    // As the edge's podpatch does: the status moves on, and with it the resourceVersion.
    await kube.patch(paths.namespaced('default', 'pods', 'reporter', 'status'), { status: { phase: 'Running' } }, 'merge');
    const before = stack.ec.downstreamStats()?.podStatusOnlySkipped ?? 0;
    await waitForCondition(() => (stack.ec.downstreamStats()?.podStatusOnlySkipped ?? 0) > before, 'the status change seen and skipped');
    const pass = await stack.sync.sync('edge-a');
    assert.equal(pass.updates, 0, 'the sync pass sees the newer resourceVersion but the same metadata and spec');
    assert.ok(pass.unchanged >= 1);
    assert.equal(a.about('default/pod/reporter', 'update').length, 0, 'no update for a status-only change');

    const labelled = await kube.patch(paths.namespaced('default', 'pods', 'reporter'), { metadata: { labels: { tier: 'web' } } }, 'merge');
    const m = await a.waitFor('default/pod/reporter', 'update');
    assert.equal(m.header.resourceversion, labelled.metadata?.resourceVersion);
    assert.deepEqual((m.content as KubeObject).metadata?.['labels'], { app: 'reporter', tier: 'web' });
    assert.equal(((m.content as KubeObject)['status'] as { phase?: string }).phase, 'Running', 'the update carries the current status');
    await sleep(200);
    assert.equal((await stack.sync.sync('edge-a')).updates, 0, 'nothing left to repair');
    assert.equal(a.about('default/pod/reporter', 'update').length, 1);
  });

  test('pod deletion: update with deletionTimestamp, then delete after the edge removes it', async () => {
    const pod = await kube.create(paths.namespaced('default', 'pods'), podManifest('doomed', 'edge-a'));
    await a.waitFor('default/pod/doomed', 'insert');
    await kube.delete(paths.namespaced('default', 'pods', 'doomed'));
    await waitForUpdate(a, 'default/pod/doomed', (o) => o.metadata?.['deletionTimestamp'] !== undefined);
    const reply = await a.request('delete', 'default/pod/doomed', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    assert.equal(reply.content, 'OK');
    const del = await a.waitFor('default/pod/doomed', 'delete');
    assert.equal((del.content as KubeObject).metadata?.uid, pod.metadata?.uid);
  });
});

async function waitForCondition(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function waitForUpdate(edge: FakeEdge, resource: string, pred: (o: KubeObject) => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!edge.about(resource, 'update').some((m) => pred(m.content as KubeObject))) {
    if (Date.now() > end) throw new Error(`no matching update of ${resource}`);
    await sleep(20);
  }
}
