import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectlOk, startTestServer, type TestServer } from '../../../helpers/apiserver.ts';

type Vol = { name: string; projected?: { sources: Array<Record<string, unknown>> } };
type PodJson = {
  spec: {
    serviceAccountName?: string;
    volumes?: Vol[];
    containers: Array<{ volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
    initContainers?: Array<{ volumeMounts?: Array<{ name: string; mountPath: string }> }>;
  };
};

const pod = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'c', image: 'busybox' }], ...extra },
  });

describe('apiserver ServiceAccount admission: the default projected service-account volume', () => {
  let api: TestServer;
  before(async () => {
    api = await startTestServer();
  });
  after(async () => {
    await api?.cleanup();
  });

  test('a pod in a namespace without its ServiceAccount is admitted as it came', async () => {
    await kubectlOk(api, ['apply', '-f', '-'], pod('before-sa'));
    const p = JSON.parse(await kubectlOk(api, ['get', 'pod', 'before-sa', '-o', 'json'])) as PodJson;
    assert.equal(p.spec.volumes, undefined);
    assert.equal(p.spec.serviceAccountName, undefined);
  });

  test('with `default` there: kube-api-access-xxxxx (token, kube-root-ca.crt, namespace) mounted read-only in every container', async () => {
    await kubectlOk(api, ['create', 'serviceaccount', 'default']);
    await kubectlOk(api, ['apply', '-f', '-'], pod('with-sa'));
    const p = JSON.parse(await kubectlOk(api, ['get', 'pod', 'with-sa', '-o', 'json'])) as PodJson;
    assert.equal(p.spec.serviceAccountName, 'default');
    const vol = p.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    assert.match(vol?.name ?? '', /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(vol?.projected?.sources, [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    for (const c of [...p.spec.containers, ...(p.spec.initContainers ?? [])]) {
      assert.deepEqual(c.volumeMounts, [{ name: vol?.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    }
  });

  test('automountServiceAccountToken: false on the pod or on its ServiceAccount leaves the pod without the volume', async () => {
    await kubectlOk(api, ['apply', '-f', '-'], pod('no-mount', { automountServiceAccountToken: false }));
    const p = JSON.parse(await kubectlOk(api, ['get', 'pod', 'no-mount', '-o', 'json'])) as PodJson;
    assert.equal(p.spec.volumes, undefined);
    await kubectlOk(
      api,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false }),
    );
    await kubectlOk(api, ['apply', '-f', '-'], pod('quiet-pod', { serviceAccountName: 'quiet' }));
    const q = JSON.parse(await kubectlOk(api, ['get', 'pod', 'quiet-pod', '-o', 'json'])) as PodJson;
    assert.equal(q.spec.volumes, undefined);
  });
});
