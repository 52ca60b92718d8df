import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { certDerToPem, issueKeyPair, keyDerToPem, keyPemToDer, pemToDer } from '../../../src/pki/x509.ts';
import { loadKubeConfig } from '../../../src/kube/client.ts';
import { installKubeEdgeCrds } from '../../../src/kube/crds.ts';
import { KubeRest } from '../../../src/kube/rest.ts';
import { rawRequest, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const bin = kubectlPath();
const skip = skipUnless(bin !== undefined, 'kubectl');
let s: TestServer;

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.cleanup();
});

function kubectl(args: string[], o: { kubeconfig?: string; stdin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin ?? 'kubectl', ['--kubeconfig', o.kubeconfig ?? s.kubeConfigPath, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
    if (o.stdin !== undefined) child.stdin?.end(o.stdin);
  });
}

async function ok(args: string[], o: { kubeconfig?: string; stdin?: string } = {}): Promise<string> {
  const r = await kubectl(args, o);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A kubeconfig for the same server with another user (a token or a client certificate). */
function kubeconfigFor(name: string, user: Record<string, string>): string {
  const path = join(s.dir, `${name}.conf`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: s.url, 'certificate-authority-data': Buffer.from(s.caPem).toString('base64') } }],
      users: [{ name, user }],
      contexts: [{ name, context: { cluster: 'c', user: name, namespace: 'default' } }],
      'current-context': name,
    }),
  );
  return path;
}

test('kubectl create token gives a ServiceAccount token; auth can-i says no until a RoleBinding grants it', { skip }, async () => {
  await ok(['create', 'serviceaccount', 'x']);
  const token = (await ok(['create', 'token', 'x'])).trim();
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  assert.equal(payload.sub, 'system:serviceaccount:default:x');
  const asSa = kubeconfigFor('sa-x', { token });
  assert.match(await ok(['auth', 'whoami'], { kubeconfig: asSa }), /system:serviceaccount:default:x/);
  const denied = await kubectl(['get', 'pods'], { kubeconfig: asSa });
  assert.notEqual(denied.code, 0);
  assert.match(
    denied.stderr,
    /pods is forbidden: User "system:serviceaccount:default:x" cannot list resource "pods" in API group "" in the namespace "default"/,
  );

  const no = await kubectl(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:default:x']);
  assert.equal(no.stdout.trim(), 'no');
  assert.equal(no.code, 1);
  // Both sent as protobuf by kubectl 1.32.
  await ok(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods']);
  await ok(['create', 'rolebinding', 'x-reads-pods', '--role=pod-reader', '--serviceaccount=default:x']);
  assert.equal((await ok(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:default:x'])).trim(), 'yes');
  assert.equal((await kubectl(['auth', 'can-i', 'delete', 'pods', '--as=system:serviceaccount:default:x'])).stdout.trim(), 'no');
  assert.equal((await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system', '--as=system:serviceaccount:default:x'])).stdout.trim(), 'no');
  assert.match(await ok(['get', 'pods'], { kubeconfig: asSa }), /^$|No resources/);
  // kubectl auth can-i --list (SelfSubjectRulesReview) shows what the RoleBinding grants.
  const list = await ok(['auth', 'can-i', '--list', '--as=system:serviceaccount:default:x']);
  assert.match(list, /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  // The ServiceAccount may not impersonate anyone, nor do what its role does not grant.
  const imp = await kubectl(['get', 'pods', '--as=kubernetes-admin'], { kubeconfig: asSa });
  assert.match(imp.stderr, /cannot impersonate resource "users"/);
  assert.match((await kubectl(['create', 'configmap', 'c1'], { kubeconfig: asSa })).stderr, /forbidden/);

  // A token for another audience is not accepted by the API server; TokenReview with that audience accepts it.
  const other = (await ok(['create', 'token', 'x', '--audience=vault'])).trim();
  const r401 = await kubectl(['get', 'pods'], { kubeconfig: kubeconfigFor('sa-x-vault', { token: other }) });
  assert.match(r401.stderr, /Unauthorized|must be logged in/);
  const admin = readFileSync(join(s.dataDir, 'apiserver-admin.token'), 'utf8').trim();
  const review = await rawRequest(s, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    token: admin,
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: other, audiences: ['vault'] } }),
  });
  assert.equal(review.status, 201);
  const st = JSON.parse(review.body).status;
  assert.equal(st.authenticated, true);
  assert.equal(st.user.username, 'system:serviceaccount:default:x');

  // Deleting the ServiceAccount invalidates its tokens.
  await ok(['delete', 'serviceaccount', 'x']);
  assert.match((await kubectl(['get', 'pods'], { kubeconfig: asSa })).stderr, /Unauthorized|must be logged in/);
});

test('a client certificate signed by the server CA authenticates as CN with O as groups; ClusterRoleBindings to the group apply', { skip }, async () => {
  const ca = {
    certDer: pemToDer(readFileSync(join(s.dataDir, 'apiserver-ca.crt'), 'utf8'), 'CERTIFICATE'),
    keyDer: keyPemToDer(readFileSync(join(s.dataDir, 'apiserver-ca.key'), 'utf8')),
  };
  const pair = await issueKeyPair(ca, { subject: 'CN=jane, O=devs', usages: ['clientAuth'], days: 1 });
  const jane = kubeconfigFor('jane', {
    'client-certificate-data': Buffer.from(certDerToPem(pair.certDer)).toString('base64'),
    'client-key-data': Buffer.from(keyDerToPem(pair.keyDer)).toString('base64'),
  });
  const who = await ok(['auth', 'whoami', '-o', 'json'], { kubeconfig: jane });
  const info = JSON.parse(who).status.userInfo;
  assert.equal(info.username, 'jane');
  assert.ok(info.groups.includes('devs'));
  assert.match(
    (await kubectl(['get', 'nodes'], { kubeconfig: jane })).stderr,
    /nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope/,
  );
  await ok(['apply', '-f', '-'], {
    stdin: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-view-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}
`,
  });
  assert.equal((await kubectl(['get', 'nodes'], { kubeconfig: jane })).code, 0);
  assert.equal((await ok(['auth', 'can-i', 'list', 'nodes', '--as=jane', '--as-group=devs'])).trim(), 'yes');
  assert.equal((await kubectl(['auth', 'can-i', 'list', 'nodes', '--as=jane'])).stdout.trim(), 'no');
  // The admin token stays all-powerful.
  assert.equal((await ok(['auth', 'can-i', '*', '*'])).trim(), 'yes');
  const roles = await ok(['get', 'clusterroles']);
  assert.match(roles, /cluster-admin/);
  assert.match(roles, /system:basic-user/);
});

test('the embedded server writes cloudcore.conf: ServiceAccount kubeedge/cloudcore with the ClusterRole of manifests/rbac/cloudcore.yaml', {
  skip,
}, async () => {
  const cc = s.cloudcoreKubeConfigPath;
  // KubeEdge's kinds are CRDs, installed by cloudcore at start (as here, with the admin identity).
  await installKubeEdgeCrds(new KubeRest(loadKubeConfig({ kubeConfig: s.kubeConfigPath })));
  assert.match(await ok(['auth', 'whoami'], { kubeconfig: cc }), /system:serviceaccount:kubeedge:cloudcore/);
  assert.equal((await ok(['auth', 'can-i', 'watch', 'pods', '-A'], { kubeconfig: cc })).trim(), 'yes');
  assert.equal((await ok(['auth', 'can-i', 'patch', 'nodes', '--subresource=status'], { kubeconfig: cc })).trim(), 'yes');
  assert.equal((await ok(['auth', 'can-i', 'create', 'objectsyncs.reliablesyncs.kubeedge.io', '-n', 'default'], { kubeconfig: cc })).trim(), 'yes');
  // The embedded controllers' ClusterRole (cloudcore:controllers): binding, eviction, finalize, workloads.
  assert.equal((await ok(['auth', 'can-i', 'create', 'pods', '--subresource=binding', '-n', 'default'], { kubeconfig: cc })).trim(), 'yes');
  assert.equal((await ok(['auth', 'can-i', 'create', 'pods', '--subresource=eviction', '-n', 'default'], { kubeconfig: cc })).trim(), 'yes');
  assert.equal((await ok(['auth', 'can-i', 'update', 'namespaces', '--subresource=finalize'], { kubeconfig: cc })).trim(), 'yes');
  assert.equal((await ok(['auth', 'can-i', 'update', 'deployments.apps', '--subresource=status', '-n', 'default'], { kubeconfig: cc })).trim(), 'yes');
  // Still no way to grant itself more.
  assert.equal((await kubectl(['auth', 'can-i', 'impersonate', 'users'], { kubeconfig: cc })).stdout.trim(), 'no');
  assert.equal((await kubectl(['auth', 'can-i', 'update', 'clusterroles'], { kubeconfig: cc })).stdout.trim(), 'no');
  assert.equal((await kubectl(['auth', 'can-i', 'create', 'clusterroles'], { kubeconfig: cc })).stdout.trim(), 'no');
  // The same objects apply cleanly to a cluster (here: back onto this one, unchanged).
  const manifest = readFileSync(join(import.meta.dirname, '..', '..', '..', 'manifests', 'rbac', 'cloudcore.yaml'), 'utf8');
  assert.match(await ok(['apply', '--server-side', '-f', '-'], { stdin: manifest }), /clusterrole\.rbac\.authorization\.k8s\.io\/cloudcore serverside-applied/);
});
