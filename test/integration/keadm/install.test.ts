// Issue 16: on a fresh cluster keadm installs KubeEdge's CRDs and cloudcore's RBAC once (server-side apply);
// applying them again reports every object unchanged. The cluster is an API server of ours on loopback.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadKubeConfig } from '../../../src/kube/client.ts';
import { kubeEdgeCrds } from '../../../src/kube/crds.ts';
import { KubeRest } from '../../../src/kube/rest.ts';
import { applyObjects, describeApplied } from '../../../src/keadm/cluster.ts';
import { cloudcoreClusterRbac } from '../../../src/keadm/cluster-rbac.ts';
import { kubectlOk, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

let server: TestServer | undefined;
let kube: KubeRest | undefined;
after(async () => {
  kube?.close();
  await server?.cleanup();
});

test('CRDs and RBAC are created once; a second apply reports all of them unchanged', { skip: skipUnless(kubectlPath() !== undefined, 'kubectl') }, async () => {
  server = await startTestServer();
  kube = new KubeRest(loadKubeConfig({ kubeConfig: server.kubeConfigPath }));
  const crds = await applyObjects(kube, kubeEdgeCrds());
  assert.deepEqual(new Set(crds.map((a) => a.result)), new Set(['created']));
  const rbac = await applyObjects(kube, cloudcoreClusterRbac());
  assert.equal(rbac.length, 6);
  // This API server bootstraps the namespace, account and a broader cloudcore ClusterRole itself: keadm narrows the role.
  assert.match(
    describeApplied('RBAC', rbac),
    /^RBAC: created Role\/kubeedge\/cloudcore, RoleBinding\/kubeedge\/cloudcore; configured .*ClusterRole\/cloudcore/,
  );

  const crds2 = await applyObjects(kube, kubeEdgeCrds());
  assert.equal(describeApplied('CRDs', crds2), 'CRDs: 11 unchanged');
  assert.equal(describeApplied('RBAC', await applyObjects(kube, cloudcoreClusterRbac())), 'RBAC: 6 unchanged');
  // The kinds work right after (Established), and the role is the least-privilege one.
  assert.match(await kubectlOk(server, ['get', 'objectsyncs', '-A']), /^$|NAMESPACE/);
  const role = await kubectlOk(server, ['get', 'clusterrole', 'cloudcore', '-o', 'jsonpath={.rules[*].resources}']);
  assert.doesNotMatch(role, /"\*"/);
  assert.match(role, /objectsyncs/);
});
