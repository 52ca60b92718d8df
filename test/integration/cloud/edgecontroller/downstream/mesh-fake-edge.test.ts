// EdgeController's EdgeMesh downstream over a real API server and CloudHub, to fake edges (WebSocket clients that
// ack like MetaManager): Services and EndpointSlices reach the nodes labelled kubeedge.io/edgemesh=enabled only,
// an update that changes nothing EdgeMesh reads is not sent, a node that turns EdgeMesh on gets everything, a
// delete is delivered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestServer } from '../../../../helpers/apiserver.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';
import { makePki, type LinkPki } from '../../../../helpers/cloudhub.ts';
import { FakeEdge, newApi, sleep, startStack, type CloudStack } from '../../../../helpers/downstream.ts';

const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

describe('EdgeMesh downstream: Services and EndpointSlices to EdgeMesh nodes (fake edges that ack)', () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;
  let mesh: FakeEdge;
  let plain: FakeEdge;

  before(async () => {
    pki = await makePki();
    ({ api, kube } = await newApi());
    const node = (name: string, labels: Record<string, string>) =>
      kube.create(paths.nodes(), { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'node-role.kubernetes.io/edge': '', ...labels } } });
    await node('edge-mesh', { 'kubeedge.io/edgemesh': 'enabled' });
    await node('edge-plain', {});
    stack = await startStack(api, pki);
    mesh = await FakeEdge.connect(stack.port, pki, 'edge-mesh');
    plain = await FakeEdge.connect(stack.port, pki, 'edge-plain');
  });
  after(async () => {
    await mesh?.close();
    await plain?.close();
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('a Service and its EndpointSlice reach the EdgeMesh node only, with kind and resourceVersion', async () => {
    const svc = await kube.create(paths.namespaced('default', 'services'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 80 }] },
    });
    const m = await mesh.waitFor('default/service/web', 'insert');
    assert.equal((m.content as KubeObject).kind, 'Service');
    assert.equal(m.header.resourceversion, svc.metadata?.resourceVersion);
    await kube.create(SLICES, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['172.17.0.5'], conditions: { ready: true }, nodeName: 'edge-mesh' }],
    });
    const s = await mesh.waitFor('default/endpointslice/web-1', 'insert');
    assert.equal((s.content as KubeObject).kind, 'EndpointSlice');
    assert.equal((s.content as KubeObject).apiVersion, 'discovery.k8s.io/v1');
    await sleep(300);
    assert.equal(plain.about('default/service/web').length + plain.about('default/endpointslice/web-1').length, 0);
  });

  test('an update EdgeMesh cannot notice is not sent; a real one is', async () => {
    const slice = await kube.get<KubeObject>(`${SLICES}/web-1`);
    // The endpoints controllers' bookkeeping annotation moves with every recompute.
    const md = slice.metadata ?? {};
    await kube.replace(`${SLICES}/web-1`, {
      ...slice,
      metadata: { ...md, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() } },
    });
    // Then a change EdgeMesh reads, on the same watch: the only slice update the edge gets is this one.
    const now = await kube.get<KubeObject>(`${SLICES}/web-1`);
    await kube.replace(`${SLICES}/web-1`, {
      ...now,
      endpoints: [
        { addresses: ['172.17.0.5'], conditions: { ready: true }, nodeName: 'edge-mesh' },
        { addresses: ['172.17.0.6'], conditions: { ready: true }, nodeName: 'edge-mesh' },
      ],
    });
    await mesh.waitFor('default/endpointslice/web-1', 'update');
    const updates = mesh.about('default/endpointslice/web-1', 'update');
    assert.equal(updates.length, 1, 'the annotation-only slice update stays in the cloud');
    assert.equal((updates[0]?.content as { endpoints?: unknown[] } | undefined)?.endpoints?.length, 2);
    const svc = await kube.get<KubeObject>(paths.namespaced('default', 'services', 'web'));
    await kube.replace(paths.namespaced('default', 'services', 'web'), {
      ...svc,
      spec: { ...(svc['spec'] as object), ports: [{ name: 'http', port: 9090, targetPort: 80 }] },
    });
    const u = await mesh.waitFor('default/service/web', 'update');
    assert.equal(((u.content as { spec: { ports: Array<{ port: number }> } }).spec.ports[0] ?? { port: 0 }).port, 9090);
  });

  test('a node that turns EdgeMesh on gets every Service and slice at once', async () => {
    const n = await kube.get<KubeObject>(paths.node('edge-plain'));
    const labels = { ...((n.metadata?.['labels'] as Record<string, string>) ?? {}), 'kubeedge.io/edgemesh': 'enabled' };
    await kube.patch(paths.node('edge-plain'), { metadata: { labels } }, 'merge');
    await plain.waitFor('default/service/web', 'insert');
    await plain.waitFor('default/endpointslice/web-1', 'insert');
  });

  test('an existing node that re-registers with EdgeMesh on gets the label, and so the Services', async () => {
    await kube.create(paths.nodes(), {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'edge-late', labels: { 'node-role.kubernetes.io/edge': '', team: 'a' } },
    });
    const late = await FakeEdge.connect(stack.port, pki, 'edge-late');
    try {
      const reply = await late.request('insert', 'default/node/edge-late', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'edge-late', labels: { 'kubeedge.io/edgemesh': 'enabled' } },
      });
      assert.equal((reply.content as { Err?: unknown }).Err ?? null, null);
      const labels = (await kube.get<KubeObject>(paths.node('edge-late'))).metadata?.['labels'] as Record<string, string>;
      assert.equal(labels['kubeedge.io/edgemesh'], 'enabled');
      assert.equal(labels['team'], 'a', "the cluster's own labels stay");
      await late.waitFor('default/service/web', 'insert');
      // Re-registering without it (EdgeMesh switched off in edgecore.yaml) takes the label away.
      await late.request('insert', 'default/node/edge-late', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-late', labels: {} } });
      const labelsAfter = (await kube.get<KubeObject>(paths.node('edge-late'))).metadata?.['labels'] as Record<string, string>;
      assert.equal(labelsAfter['kubeedge.io/edgemesh'], undefined);
    } finally {
      await late.close();
    }
  });

  test('a deleted Service is deleted on every EdgeMesh node', async () => {
    await kube.delete(paths.namespaced('default', 'services', 'web'));
    await mesh.waitFor('default/service/web', 'delete');
    await plain.waitFor('default/service/web', 'delete');
  });
});
