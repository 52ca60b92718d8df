import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { VERSION } from '../version.ts';
import { defaultChartValues } from './chart.ts';
import { CLOUDCORE_CLUSTER_RULES, CLOUDCORE_NAMESPACE_RULES, cloudcoreClusterRbac } from './cluster-rbac.ts';
import { describeApplied, flattenKubeConfig, isLoopbackHost, objectPath } from './cluster.ts';

const root = path.join(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

test('the chart and manifests/rbac/cloudcore-cluster.yaml carry the RBAC keadm installs (scripts/gen-cloudcore-rbac.ts rewrites them)', () => {
  assert.deepEqual(parse(read('manifests/charts/cloudcore/files/cluster-rules.yaml')), CLOUDCORE_CLUSTER_RULES);
  assert.deepEqual(parse(read('manifests/charts/cloudcore/files/namespace-rules.yaml')), CLOUDCORE_NAMESPACE_RULES);
  const docs = parseAllDocuments(read('manifests/rbac/cloudcore-cluster.yaml'))
    .map((d) => d.toJS())
    .filter((d) => d !== null);
  assert.deepEqual(docs, cloudcoreClusterRbac());
});

test('cloudcore on a real cluster gets no blanket rights: no wildcard, no cluster-wide secret writes, no RBAC writes', () => {
  for (const r of CLOUDCORE_CLUSTER_RULES) {
    assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), JSON.stringify(r));
    if (r.resources.includes('secrets')) assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
    assert.ok(!r.apiGroups.includes('rbac.authorization.k8s.io'));
  }
});

test("the chart's values.yaml defaults are what keadm renders without helm, and its image is this version", () => {
  const v = (parse(read('manifests/charts/cloudcore/values.yaml')) as { cloudCore: unknown }).cloudCore as {
    replicaCount: number;
    hostNetwork: boolean;
    image: unknown;
    nodeSelector: unknown;
    tolerations: unknown;
    resources: unknown;
    service: { type: string };
    modules: { cloudHub: { advertiseAddress: string[]; nodeLimit: number; websocket: { port: number }; https: { port: number } } };
  };
  const d = defaultChartValues();
  assert.deepEqual(
    {
      replicaCount: v.replicaCount,
      hostNetwork: v.hostNetwork,
      image: v.image,
      nodeSelector: v.nodeSelector,
      tolerations: v.tolerations,
      resources: v.resources,
      serviceType: v.service.type,
      advertiseAddress: v.modules.cloudHub.advertiseAddress,
      nodeLimit: v.modules.cloudHub.nodeLimit,
      websocketPort: v.modules.cloudHub.websocket.port,
      httpsPort: v.modules.cloudHub.https.port,
    },
    d,
  );
  assert.equal((parse(read('manifests/charts/cloudcore/Chart.yaml')) as { appVersion: string }).appVersion, VERSION);
});

test('loopback API servers are the ones a bridged container cannot reach', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['10.0.0.1', '192.168.1.5', 'kube.example.com', '[fd00::1]']) assert.equal(isLoopbackHost(h), false, h);
});

test('object paths and the one-line summary of an apply', () => {
  const [ns, sa, cr] = cloudcoreClusterRbac();
  assert.equal(objectPath(ns ?? {}), '/api/v1/namespaces/kubeedge');
  assert.equal(objectPath(sa ?? {}), '/api/v1/namespaces/kubeedge/serviceaccounts/cloudcore');
  assert.equal(objectPath(cr ?? {}), '/apis/rbac.authorization.k8s.io/v1/clusterroles/cloudcore');
  assert.equal(
    describeApplied('RBAC', [
      { ref: 'A/a', path: '', result: 'created' },
      { ref: 'B/b', path: '', result: 'unchanged' },
      { ref: 'C/c', path: '', result: 'unchanged' },
    ]),
    'RBAC: created A/a; 2 unchanged',
  );
});

test('a kubeconfig naming certificate and token files is flattened: their contents inline, paths relative to its directory', () => {
  // Nothing is read from disk: `files` stands in for the filesystem under a made-up home directory.
  const home = path.join(path.parse(root).root, 'home-of-a-minikube-user');
  const files: Record<string, string> = {
    [path.join(home, '.minikube/ca.crt')]: 'CA',
    [path.join(home, '.minikube/profiles/m/client.crt')]: 'CRT',
    [path.join(home, 'key')]: 'KEY',
    [path.join(home, '.kube/tok')]: 'T0K\n',
  };
  const text = `apiVersion: v1
kind: Config
clusters:
  - name: m
    cluster: {server: 'https://127.0.0.1:8443', certificate-authority: ../.minikube/ca.crt}
users:
  - name: m
    user: {client-certificate: ../.minikube/profiles/m/client.crt, client-key: ${path.join(home, 'key')}}
  - name: t
    user: {tokenFile: tok}
`;
  const flat = parse(
    flattenKubeConfig(text, path.join(home, '.kube'), (f) => {
      const v = files[f];
      if (v === undefined) throw new Error(`read ${f}`);
      return Buffer.from(v);
    }),
  ) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: Record<string, string> }> };
  assert.deepEqual(flat.clusters[0]?.cluster, { server: 'https://127.0.0.1:8443', 'certificate-authority-data': Buffer.from('CA').toString('base64') });
  assert.deepEqual(flat.users[0]?.user, {
    'client-certificate-data': Buffer.from('CRT').toString('base64'),
    'client-key-data': Buffer.from('KEY').toString('base64'),
  });
  assert.deepEqual(flat.users[1]?.user, { token: 'T0K' });
});

test("the chart's crds/ are manifests/crds/ (copy them over when KubeEdge's CRDs change)", () => {
  const names = readdirSync(path.join(root, 'manifests/crds')).sort();
  assert.deepEqual(readdirSync(path.join(root, 'manifests/charts/cloudcore/crds')).sort(), names);
  for (const n of names) assert.equal(read(`manifests/charts/cloudcore/crds/${n}`), read(`manifests/crds/${n}`), n);
});
