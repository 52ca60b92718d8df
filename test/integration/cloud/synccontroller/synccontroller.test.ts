import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestServer } from '../../../helpers/apiserver.ts';
import type { Message } from '../../../../src/core/message.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../src/kube/rest.ts';
import { ObjectSyncStore } from '../../../../src/cloud/cloudhub/reliable/objectsync.ts';
import { makePki, waitFor, type LinkPki } from '../../../helpers/cloudhub.ts';
import { createNode, FakeEdge, newApi, podManifest, sleep, startStack, type CloudStack } from '../../../helpers/downstream.ts';

const cm = (name: string, mode: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { mode } });
const summary = (ms: Message[]) => ms.map((m) => `${m.route.operation} ${m.route.resource} ${m.header.resourceversion ?? ''}`).sort();

/** Waits until `edge` has been quiet (nothing new) for `quietMs`. */
async function settle(edge: FakeEdge, quietMs = 600): Promise<void> {
  let n = -1;
  while (n !== edge.received.length) {
    n = edge.received.length;
    await sleep(quietMs);
  }
}

describe('synccontroller: reconnects and cloudcore restarts send only what changed (fake edge that acks)', () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;

  before(async () => {
    pki = await makePki();
    ({ api, kube } = await newApi());
    await createNode(kube, 'edge-s', true);
    stack = await startStack(api, pki, { retryIntervalMs: 300, syncPeriodMs: 400 });
  });
  after(async () => {
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('reconnect after changes made while disconnected: only the changed objects, in their current version', async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-s');
    await kube.create(paths.namespaced('default', 'configmaps'), cm('conf', 'alpha'));
    await kube.create(paths.namespaced('default', 'pods'), podManifest('steady', 'edge-s', { configMap: 'conf' }));
    await kube.create(paths.namespaced('default', 'pods'), podManifest('leaving', 'edge-s'));
    await edge.waitFor('default/pod/steady', 'insert');
    await edge.waitFor('default/pod/leaving', 'insert');
    // As a real edge does when the pod starts: it pulls the ConfigMap.
    const reply = await edge.request('query', 'default/configmap/conf');
    assert.equal((reply.content as KubeObject).kind, 'ConfigMap');
    await settle(edge);
    await edge.close();
    await waitFor(() => !stack.hub.isConnected('edge-s'), 'cloud sees the disconnect');

    await kube.patch(paths.namespaced('default', 'configmaps', 'conf'), { data: { mode: 'beta' } }, 'merge');
    const cmNow = await kube.patch(paths.namespaced('default', 'configmaps', 'conf'), { data: { mode: 'gamma' } }, 'merge');
    await kube.delete(paths.namespaced('default', 'pods', 'leaving')); // graceful: deletionTimestamp set
    const leavingNow = await kube.get(paths.namespaced('default', 'pods', 'leaving'));
    await sleep(1000); // several sync passes while the node is away

    const back = await FakeEdge.connect(stack.port, pki, 'edge-s');
    try {
      await settle(back);
      assert.deepEqual(summary(back.received), [
        `update default/configmap/conf ${cmNow.metadata?.resourceVersion}`,
        `update default/pod/leaving ${leavingNow.metadata?.resourceVersion}`,
      ]);
      const pod = back.about('default/pod/leaving')[0]?.content as KubeObject;
      assert.ok(pod.metadata?.['deletionTimestamp'], 'the pod arrives in its current (terminating) version');
      assert.deepEqual((back.about('default/configmap/conf')[0]?.content as { data: unknown } | undefined)?.data, { mode: 'gamma' });
    } finally {
      await back.close();
    }
  });

  test('cloudcore restart: nothing resent for acked objects; what changed while it was down is sent', async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-s');
    await kube.create(paths.namespaced('default', 'pods'), podManifest('gone-while-down', 'edge-s'));
    await edge.waitFor('default/pod/gone-while-down', 'insert');
    await settle(edge);
    await edge.close();
    await stack.stop();

    // cloudcore is down: one pod appears, one vanishes, the ConfigMap changes, one pod's status alone changes.
    await kube.patch(paths.namespaced('default', 'pods', 'steady', 'status'), { status: { phase: 'Running' } }, 'merge');
    const fresh = await kube.create(paths.namespaced('default', 'pods'), podManifest('born-while-down', 'edge-s'));
    const gone = await kube.get(paths.namespaced('default', 'pods', 'gone-while-down'));
    await kube.delete(paths.namespaced('default', 'pods', 'gone-while-down'), { gracePeriodSeconds: 0 });
    const cmNow = await kube.patch(paths.namespaced('default', 'configmaps', 'conf'), { data: { mode: 'delta' } }, 'merge');

    stack = await startStack(api, pki, { retryIntervalMs: 300, syncPeriodMs: 400 });
    const back = await FakeEdge.connect(stack.port, pki, 'edge-s');
    try {
      await settle(back);
      assert.deepEqual(summary(back.received.filter((m) => m.route.operation !== 'delete')), [
        `insert default/pod/born-while-down ${fresh.metadata?.resourceVersion}`,
        `update default/configmap/conf ${cmNow.metadata?.resourceVersion}`,
      ]);
      const deletes = back.about('default/pod/gone-while-down', 'delete');
      assert.equal(deletes.length, 1, 'the vanished pod is deleted on the edge, once');
      assert.equal((deletes[0]?.content as KubeObject | undefined)?.metadata?.uid, gone.metadata?.uid);
      assert.equal(back.about('default/pod/steady').length, 0, 'an acked pod whose status alone changed is not resent');
    } finally {
      await back.close();
    }
  });

  test("node deletion ends the session and garbage-collects the node's ObjectSyncs; a re-joined node gets its pods again", async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-s');
    const store = new ObjectSyncStore(kube);
    const mine = async () => (await store.list()).filter((r) => r.nodeName === 'edge-s');
    assert.ok((await mine()).length > 0, 'the node has ObjectSyncs from the tests above');
    const closed = new Promise<void>((resolve) => edge.onClose(resolve));
    await kube.delete(paths.node('edge-s'));
    await closed;
    const end = Date.now() + 10_000;
    while ((await mine()).length > 0) {
      if (Date.now() > end) assert.fail('ObjectSyncs of the deleted node remain');
      await sleep(100);
    }
    // Re-joined under the same name with an empty database: it gets its pods again.
    await createNode(kube, 'edge-s', true);
    const again = await FakeEdge.connect(stack.port, pki, 'edge-s');
    try {
      await again.waitFor('default/pod/steady', 'insert');
    } finally {
      await again.close();
    }
  });
});
