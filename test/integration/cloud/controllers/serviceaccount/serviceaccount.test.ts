import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { quietLog } from '../../../../helpers/cloudhub.ts';
import { startControlPlane, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { loadKubeConfig } from '../../../../../src/kube/client.ts';
import { isNotFound, KubeRest, paths, type KubeObject } from '../../../../../src/kube/rest.ts';
import { queryHandlers } from '../../../../../src/cloud/edgecontroller/upstream/configmap.ts';
import type { Message } from '../../../../../src/core/message.ts';

async function get(kube: KubeRest, path: string): Promise<KubeObject | undefined> {
  try {
    return await kube.get(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

describe('serviceaccount: a default ServiceAccount and kube-root-ca.crt in every namespace; edge tokens that authenticate', () => {
  let cp: ControlPlaneTest;
  let caPem: string;
  before(async () => {
    cp = await startControlPlane(['serviceaccount']);
    const cluster = loadKubeConfig({ kubeConfig: cp.api.kubeConfigPath }).getCurrentCluster();
    caPem = Buffer.from(cluster?.caData ?? '', 'base64').toString('utf8');
    assert.match(caPem, /BEGIN CERTIFICATE/);
  });
  after(async () => {
    await cp?.cleanup();
  });

  test('namespaces that exist at start and new ones get `default` and kube-root-ca.crt with the API server CA', async () => {
    await kubectlOk(cp.api, ['create', 'namespace', 'team-a']);
    for (const ns of ['default', 'kube-system', 'kube-public', 'team-a']) {
      await waitFor(() => get(cp.admin, paths.namespaced(ns, 'serviceaccounts', 'default')), 20_000);
      const cm = (await waitFor(() => get(cp.admin, paths.namespaced(ns, 'configmaps', 'kube-root-ca.crt')), 20_000)) as KubeObject;
      assert.deepEqual(cm['data'], { 'ca.crt': caPem }, ns);
    }
    const out = await kubectlOk(cp.api, ['get', 'serviceaccounts', '-n', 'team-a', '-o', 'name']);
    assert.match(out, /serviceaccount\/default/);
  });

  test('a deleted default ServiceAccount comes back; an edited kube-root-ca.crt is put back', async () => {
    const first = (await waitFor(() => get(cp.admin, paths.namespaced('default', 'serviceaccounts', 'default')), 20_000)) as KubeObject;
    await kubectlOk(cp.api, ['delete', 'serviceaccount', 'default', '-n', 'default']);
    const again = await waitFor(async () => {
      const sa = await get(cp.admin, paths.namespaced('default', 'serviceaccounts', 'default'));
      return sa !== undefined && sa.metadata?.uid !== first.metadata?.uid ? sa : undefined;
    }, 20_000);
    assert.equal(again?.metadata?.name, 'default');
    await waitFor(() => get(cp.admin, paths.namespaced('default', 'configmaps', 'kube-root-ca.crt')), 20_000);
    await kubectlOk(cp.api, ['patch', 'configmap', 'kube-root-ca.crt', '-n', 'default', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await waitFor(
      async () => (await get(cp.admin, paths.namespaced('default', 'configmaps', 'kube-root-ca.crt')))?.['data']?.['ca.crt' as never] === caPem,
      20_000,
    );
  });

  test('the edge’s serviceaccounttoken query gets a token that authenticates as system:serviceaccount:NS:default', async () => {
    await kubectlOk(cp.api, ['create', 'namespace', 'team-b']);
    await waitFor(() => get(cp.admin, paths.namespaced('team-b', 'serviceaccounts', 'default')), 20_000);
    // as cloudcore answers it: with cloudcore's own identity (RBAC: serviceaccounts/token create)
    const kube = new KubeRest(loadKubeConfig({ kubeConfig: cp.api.cloudcoreKubeConfigPath }));
    try {
      const asked = {
        metadata: { creationTimestamp: null },
        spec: { audiences: null, expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'u-1' } },
        status: { token: '', expirationTimestamp: null },
      };
      const msg = {
        header: { msg_id: 'm1', timestamp: Date.now() },
        route: { source: 'edged', group: 'meta', operation: 'query', resource: '' },
        content: asked,
      };
      const handler = queryHandlers['serviceaccounttoken:query'];
      assert.ok(handler);
      const reply = await handler(
        { kube, log: quietLog('sa-test') },
        { msg: msg as unknown as Message, nodeId: 'edge-1', namespace: 'team-b', type: 'serviceaccounttoken', name: 'default' },
      );
      const tr = reply?.content as { kind: string; spec: { expirationSeconds: number; boundObjectRef: { name: string } }; status: { token: string } };
      assert.equal(tr.kind, 'TokenRequest');
      assert.equal(tr.spec.expirationSeconds, 3607);
      assert.equal(tr.spec.boundObjectRef.name, 'web');
      const who = await kubectl(cp.api, ['auth', 'whoami', '--token', tr.status.token, '-o', 'jsonpath={.status.userInfo.username}']);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(who.stdout, 'system:serviceaccount:team-b:default');
    } finally {
      kube.close();
    }
  });
});
