import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk, type TestServer } from '../../../../helpers/apiserver.ts';
import { newMessage } from '../../../../../src/core/message.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';
import { createNode, FakeEdge, newApi, podManifest, sleep, startStack, type CloudStack } from '../../../../helpers/downstream.ts';
import { makePki, quietLog, waitFor, type LinkPki } from '../../../../helpers/cloudhub.ts';
import { OBJECT_SYNC_INFORMERS, ObjectSyncStore } from '../../../../../src/cloud/cloudhub/reliable/objectsync.ts';
import { Informer } from '../../../../../src/cloud/common/informers/informer.ts';
import { loadKubeConfig } from '../../../../../src/kube/client.ts';
import { compareRv } from '../../../../../src/cloud/cloudhub/reliable/rv.ts';

describe('rv comparison', () => {
  test('compares as unsigned integers, not strings', () => {
    assert.equal(compareRv('10', '9'), 1);
    assert.equal(compareRv('9', '10'), -1);
    assert.equal(compareRv('18446744073709551615', '18446744073709551614'), 1);
    assert.equal(compareRv('7', '7'), 0);
    assert.equal(compareRv('junk', '1'), -1);
  });
});

describe('reliable delivery over a real cloudhub', () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;

  before(async () => {
    pki = await makePki();
    ({ api, kube } = await newApi());
    await createNode(kube, 'edge-r', true);
    stack = await startStack(api, pki, { retryIntervalMs: 200 });
  });
  after(async () => {
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('an unacked message is resent with the same id until the fake edge acks; the acked RV lands in an ObjectSync', async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-r', { ack: false });
    try {
      const pod = await kube.create(paths.namespaced('default', 'pods'), podManifest('retry-me', 'edge-r'));
      await waitFor(() => edge.about('default/pod/retry-me', 'insert').length >= 3, 'two resends', 5000);
      const copies = edge.about('default/pod/retry-me', 'insert');
      assert.equal(new Set(copies.map((m) => m.header.msg_id)).size, 1, 'a resend is the same message');
      const uid = pod.metadata?.uid ?? '';
      const store = new ObjectSyncStore(kube);
      assert.equal(await store.acked('edge-r', { namespace: 'default', uid }), undefined, 'nothing recorded before the ack');

      edge.ack = true;
      await waitFor(() => edge.about('default/pod/retry-me', 'insert').length >= 4, 'the next resend');
      const rv = pod.metadata?.resourceVersion ?? '';
      const end = Date.now() + 5000;
      while ((await store.acked('edge-r', { namespace: 'default', uid }))?.rv !== rv) {
        if (Date.now() > end) assert.fail('ObjectSync not written');
        await sleep(50);
      }
      const n = edge.about('default/pod/retry-me').length;
      await sleep(600);
      assert.equal(edge.about('default/pod/retry-me').length, n, 'no resends after the ack');

      const out = await kubectlOk(api, ['get', 'objectsyncs', '-n', 'default', '-o', 'json']);
      const items = (JSON.parse(out) as { items: KubeObject[] }).items;
      const os = items.find((i) => i.metadata?.name === `edge-r.${uid}`);
      assert.ok(os, 'kubectl get objectsyncs lists it');
      assert.deepEqual(os['spec'], { objectAPIVersion: 'v1', objectKind: 'Pod', objectName: 'retry-me' });
      assert.deepEqual(os['status'], { objectResourceVersion: rv });
    } finally {
      await edge.close();
    }
  });

  test('an older resourceVersion is never sent after a newer one was acked', async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-r');
    try {
      const v1 = await kube.create(paths.namespaced('default', 'pods'), podManifest('versions', 'edge-r'));
      await edge.waitFor('default/pod/versions', 'insert');
      const v2 = await kube.patch(paths.namespaced('default', 'pods', 'versions'), { metadata: { labels: { v: '2' } } }, 'merge');
      await waitFor(() => edge.about('default/pod/versions', 'update').some((m) => m.header.resourceversion === v2.metadata?.resourceVersion), 'v2');
      await sleep(100); // let the ack be recorded
      // A stale copy of v1 (as a lagging producer would send it) is offered to CloudHub again.
      stack.bus.send(
        'cloudhub',
        newMessage({
          source: 'edgecontroller',
          group: 'resource',
          operation: 'update',
          resource: 'node/edge-r/default/pod/versions',
          content: v1,
          resourceVersion: v1.metadata?.resourceVersion ?? '',
        }),
      );
      await sleep(500);
      const rvs = edge.about('default/pod/versions').map((m) => m.header.resourceversion);
      assert.deepEqual(rvs, [v1.metadata?.resourceVersion, v2.metadata?.resourceVersion]);
      assert.ok(stack.hub.reliableStats()!.stale >= 1);
    } finally {
      await edge.close();
    }
  });

  test('fire-and-forget: replies are not queued or resent', async () => {
    const edge = await FakeEdge.connect(stack.port, pki, 'edge-r', { ack: false });
    try {
      await kube.create(paths.namespaced('default', 'configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'q' }, data: {} });
      const before = stack.hub.reliableStats()!;
      const reply = await edge.request('query', 'default/configmap/q');
      assert.equal(reply.route.operation, 'response');
      await sleep(500);
      assert.equal(edge.about('default/configmap/q').length, 0, 'the reply is not resent');
      assert.equal(stack.hub.reliableStats()!.sent, before.sent);
    } finally {
      await edge.close();
    }
  });
});

async function untilAsync(cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('ObjectSync records read from the watch-fed cache', () => {
  let api: TestServer;
  let kube: KubeRest;
  const informers: Informer[] = [];

  before(async () => {
    ({ api, kube } = await newApi());
  });
  after(async () => {
    for (const i of informers) i.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('acks are recorded and read back through the cache, and a record deleted behind its back is written again', async () => {
    const kc = loadKubeConfig({ kubeConfig: api.kubeConfigPath });
    const log = quietLog('objectsync-cache');
    const ns = new Informer({ kc, kube, log, ...OBJECT_SYNC_INFORMERS.namespaced });
    const cluster = new Informer({ kc, kube, log, ...OBJECT_SYNC_INFORMERS.cluster });
    informers.push(ns, cluster);
    ns.start();
    cluster.start();
    await Promise.all([ns.synced, cluster.synced]);
    const cached = new ObjectSyncStore(kube, { namespaced: ns, cluster });
    const direct = new ObjectSyncStore(kube);
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p1', uid: 'uid-cache-1' };
    assert.equal(await cached.acked('edge-c', ref), undefined);

    await cached.record('edge-c', ref, { rv: '5', fingerprint: 'f5' });
    assert.deepEqual(await direct.acked('edge-c', ref), { rv: '5', fingerprint: 'f5' }, 'written to the API server');
    await untilAsync(async () => (await cached.acked('edge-c', ref))?.rv === '5', 'the cache to see the record');
    assert.deepEqual(await cached.list(), await direct.list(), 'the same records from the cache as from a list');

    await cached.record('edge-c', ref, { rv: '6', fingerprint: 'f5' });
    assert.equal((await direct.acked('edge-c', ref))?.rv, '6');

    // Deleted by someone else while the cache may still hold it: the next ack writes it again.
    await kube.delete(`/apis/reliablesyncs.kubeedge.io/v1alpha1/namespaces/default/objectsyncs/edge-c.${ref.uid}`);
    await cached.record('edge-c', ref, { rv: '9', fingerprint: 'f9' });
    assert.deepEqual(await direct.acked('edge-c', ref), { rv: '9', fingerprint: 'f9' });
    await untilAsync(async () => (await cached.acked('edge-c', ref))?.rv === '9', 'the cache to see the new record');

    await cached.remove('edge-c', ref);
    assert.equal(await direct.acked('edge-c', ref), undefined);
  });
});
