import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { startControlPlane, testKubeletSetPodStatus, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { isNotFound, paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';

const NS = 'default';

async function createPod(admin: KubeRest, name: string, labels: Record<string, string>, httpPort: number, node = 'edge-1'): Promise<void> {
  await admin.create(paths.namespaced(NS, 'pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: httpPort }] }] },
  });
}

type Subset = {
  addresses?: Array<{ ip: string; nodeName?: string; targetRef: { name: string } }>;
  notReadyAddresses?: Array<{ ip: string }>;
  ports?: Array<{ name?: string; port: number }>;
};

async function subsets(admin: KubeRest, name: string): Promise<Subset[] | undefined> {
  try {
    const ep = await admin.get(paths.namespaced(NS, 'endpoints', name));
    return (ep['subsets'] as Subset[] | undefined) ?? [];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

describe('endpoint: Endpoints of Services with selectors follow their pods', () => {
  let cp: ControlPlaneTest;
  before(async () => {
    cp = await startControlPlane(['endpoint']);
  });
  after(async () => {
    await cp?.cleanup();
  });

  test('ready pods in addresses, not-ready ones in notReadyAddresses, named targetPort resolved per pod', async () => {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: {
          selector: { app: 'web' },
          ports: [
            { name: 'http', port: 80, targetPort: 'http' },
            { name: 'metrics', port: 9100, targetPort: 9100 },
          ],
        },
      }),
    );
    await createPod(cp.admin, 'web-1', { app: 'web' }, 8080);
    await createPod(cp.admin, 'web-2', { app: 'web' }, 8081, 'edge-2');
    await createPod(cp.admin, 'other', { app: 'other' }, 8080);
    await testKubeletSetPodStatus(cp.admin, NS, 'web-1', { ip: '10.0.0.11', ready: true });
    await testKubeletSetPodStatus(cp.admin, NS, 'web-2', { ip: '10.0.0.12', ready: false });
    await testKubeletSetPodStatus(cp.admin, NS, 'other', { ip: '10.0.0.13', ready: true });
    const got = (await waitFor(async () => {
      const s = await subsets(cp.admin, 'web');
      return s !== undefined && s.length === 2 ? s : undefined;
    }, 20_000)) as Subset[];
    // web-1 and web-2 resolve `http` to different numbers: one subset each
    const s1 = got.find((s) => s.ports?.some((p) => p.port === 8080));
    const s2 = got.find((s) => s.ports?.some((p) => p.port === 8081));
    assert.deepEqual(
      s1?.addresses?.map((a) => [a.ip, a.nodeName, a.targetRef.name]),
      [['10.0.0.11', 'edge-1', 'web-1']],
    );
    assert.deepEqual(s1?.ports?.map((p) => [p.name, p.port]).sort(), [
      ['http', 8080],
      ['metrics', 9100],
    ]);
    assert.equal(s1?.notReadyAddresses, undefined);
    assert.deepEqual(
      s2?.notReadyAddresses?.map((a) => a.ip),
      ['10.0.0.12'],
    );
    assert.equal(s2?.addresses, undefined);
    const table = await kubectlOk(cp.api, ['get', 'endpoints', 'web']);
    assert.match(table, /10\.0\.0\.11:8080/);
  });

  test('a pod becoming ready moves to addresses; one becoming not ready moves out', async () => {
    await testKubeletSetPodStatus(cp.admin, NS, 'web-2', { ip: '10.0.0.12', ready: true });
    await testKubeletSetPodStatus(cp.admin, NS, 'web-1', { ip: '10.0.0.11', ready: false });
    await waitFor(async () => {
      const s = (await subsets(cp.admin, 'web')) ?? [];
      const ready = s.flatMap((x) => x.addresses ?? []).map((a) => a.ip);
      const notReady = s.flatMap((x) => x.notReadyAddresses ?? []).map((a) => a.ip);
      return ready.join() === '10.0.0.12' && notReady.join() === '10.0.0.11';
    }, 20_000);
  });

  test('headless service without ports lists its pods; publishNotReadyAddresses counts every pod as ready', async () => {
    await kubectlOk(
      cp.api,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web-headless' },
        spec: { clusterIP: 'None', selector: { app: 'web' }, publishNotReadyAddresses: true },
      }),
    );
    const got = (await waitFor(async () => {
      const s = await subsets(cp.admin, 'web-headless');
      return s !== undefined && s.length === 1 && (s[0]?.addresses ?? []).length === 2 ? s : undefined;
    }, 20_000)) as Subset[];
    assert.equal(got[0]?.ports, undefined);
    assert.equal(got[0]?.notReadyAddresses, undefined);
    const ep = (await cp.admin.get(paths.namespaced(NS, 'endpoints', 'web-headless'))) as KubeObject;
    assert.equal(((ep.metadata?.['labels'] ?? {}) as Record<string, string>)['service.kubernetes.io/headless'], '');
  });

  test('a pod being deleted leaves the Endpoints; the Service deleted takes its Endpoints', async () => {
    await kubectlOk(cp.api, ['delete', 'pod', 'web-2', '--wait=false']);
    await waitFor(async () => {
      const s = (await subsets(cp.admin, 'web')) ?? [];
      return !s.some((x) => [...(x.addresses ?? []), ...(x.notReadyAddresses ?? [])].some((a) => a.ip === '10.0.0.12'));
    }, 20_000);
    await kubectlOk(cp.api, ['delete', 'service', 'web']);
    await waitFor(async () => (await subsets(cp.admin, 'web')) === undefined, 20_000);
  });
});
