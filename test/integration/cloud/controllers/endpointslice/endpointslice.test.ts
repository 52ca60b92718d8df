import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { startControlPlane, testKubeletSetPodStatus, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';

const NS = 'default';

async function createPod(admin: KubeRest, name: string, labels: Record<string, string>, httpPort: number): Promise<void> {
  await admin.create(paths.namespaced(NS, 'pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: httpPort }] }] },
  });
}

type Endpoint = {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef: { kind: string; name: string };
};
type Slice = KubeObject & { addressType: string; endpoints?: Endpoint[] | null; ports?: Array<{ name?: string; port: number; protocol: string }> | null };

async function slicesOf(admin: KubeRest, svc: string): Promise<Slice[]> {
  const list = await admin.get<{ items: Slice[] }>(
    `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${svc}`)}`,
  );
  return list.items;
}

const endpointsOf = (slices: Slice[]) => slices.flatMap((s) => s.endpoints ?? []);

describe('endpointslice: EndpointSlices of Services with selectors follow their pods', () => {
  let cp: ControlPlaneTest;
  before(async () => {
    cp = await startControlPlane(['endpointslice']);
  });
  after(async () => {
    await cp?.cleanup();
  });

  test('labels, owner, IPv4, ports resolved by name, conditions of ready and not-ready pods', async () => {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', labels: { tier: 'front' } },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    );
    // no pods yet: one empty slice
    await waitFor(async () => (await slicesOf(cp.admin, 'web')).length === 1, 20_000);
    await createPod(cp.admin, 'web-1', { app: 'web' }, 8080);
    await createPod(cp.admin, 'web-2', { app: 'web' }, 8080);
    await testKubeletSetPodStatus(cp.admin, NS, 'web-1', { ip: '10.0.1.1', ready: true });
    await testKubeletSetPodStatus(cp.admin, NS, 'web-2', { ip: '10.0.1.2', ready: false });
    const slices = await waitFor(async () => {
      const s = await slicesOf(cp.admin, 'web');
      return endpointsOf(s).length === 2 ? s : undefined;
    }, 20_000);
    assert.equal(slices?.length, 1);
    const slice = slices?.[0] as Slice;
    const labels = (slice.metadata?.['labels'] ?? {}) as Record<string, string>;
    assert.equal(labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(labels['tier'], 'front');
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const owner = ((slice.metadata?.['ownerReferences'] ?? []) as Array<{ kind: string; name: string; controller: boolean }>)[0];
    assert.deepEqual([owner?.kind, owner?.name, owner?.controller], ['Service', 'web', true]);
    const byName = Object.fromEntries(endpointsOf(slices ?? []).map((e) => [e.targetRef.name, e]));
    assert.deepEqual(byName['web-1']?.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byName['web-1']?.addresses, ['10.0.1.1']);
    assert.equal(byName['web-1']?.nodeName, 'edge-1');
    assert.deepEqual(byName['web-2']?.conditions, { ready: false, serving: false, terminating: false });
    const out = await kubectlOk(cp.api, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'name']);
    assert.match(out, /endpointslice.discovery.k8s.io\/web-/);
  });

  test('readiness changes and a terminating pod show in the conditions', async () => {
    await testKubeletSetPodStatus(cp.admin, NS, 'web-2', { ip: '10.0.1.2', ready: true });
    await waitFor(async () => endpointsOf(await slicesOf(cp.admin, 'web')).every((e) => e.conditions.ready), 20_000);
    // bound to a node and no kubelet to finish it: it stays terminating for its grace period
    await kubectlOk(cp.api, ['delete', 'pod', 'web-1', '--wait=false']);
    await waitFor(async () => {
      const e = endpointsOf(await slicesOf(cp.admin, 'web')).find((x) => x.targetRef.name === 'web-1');
      return e?.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving === true;
    }, 20_000);
  });

  test('more than 100 pods are spread over slices of at most 100', async () => {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'many' },
        spec: { clusterIP: 'None', selector: { app: 'many' }, ports: [{ port: 80 }] },
      }),
    );
    for (let i = 0; i < 130; i++) {
      await createPod(cp.admin, `many-${i}`, { app: 'many' }, 80);
      await testKubeletSetPodStatus(cp.admin, NS, `many-${i}`, { ip: `10.0.2.${i + 1}`, ready: true });
    }
    const slices = await waitFor(async () => {
      const s = await slicesOf(cp.admin, 'many');
      return endpointsOf(s).length === 130 ? s : undefined;
    }, 60_000);
    assert.ok((slices ?? []).every((s) => (s.endpoints ?? []).length <= 100));
    assert.equal(slices?.length, 2);
    const first = (slices ?? [])[0] as Slice;
    assert.equal(((first.metadata?.['labels'] ?? {}) as Record<string, string>)['service.kubernetes.io/headless'], '');
  });

  test('a Service deleted takes its slices', async () => {
    await kubectlOk(cp.api, ['delete', 'service', 'web']);
    await waitFor(async () => (await slicesOf(cp.admin, 'web')).length === 0, 20_000);
  });
});
