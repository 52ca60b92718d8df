import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk, kubectlStream, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.cleanup();
});

const NODE = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'edge1', labels: { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' } },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'EdgeReady', lastHeartbeatTime: '2025-01-01T00:00:00Z' }],
    addresses: [
      { type: 'InternalIP', address: '192.0.2.5' },
      { type: 'Hostname', address: 'edge1' },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.31.0-kubeedge-v1.21.0',
      osImage: 'Debian GNU/Linux 12',
      kernelVersion: '6.1.0',
      containerRuntimeVersion: 'containerd://1.7.0',
    },
  },
});

test('kubectl get nodes shows STATUS, ROLES and VERSION like a real cluster, -o wide adds addresses and OS', { skip }, async () => {
  await kubectlOk(s, ['create', '-f', '-'], NODE);
  const out = await kubectlOk(s, ['get', 'nodes']);
  assert.match(out, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
  assert.match(out, /edge1\s+Ready\s+agent,edge\s+\d+s\s+v1\.31\.0-kubeedge-v1\.21\.0/);
  const wide = await kubectlOk(s, ['get', 'nodes', '-o', 'wide']);
  assert.match(wide, /INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/);
  assert.match(wide, /192\.0\.2\.5\s+<none>\s+Debian GNU\/Linux 12\s+6\.1\.0\s+containerd:\/\/1\.7\.0/);
  const yaml = await kubectlOk(s, ['get', 'node', 'edge1', '-o', 'yaml']);
  assert.match(yaml, /name: edge1/);
  assert.match(yaml, /resourceVersion: "\d+"/);
  assert.match(yaml, /uid: [0-9a-f-]{36}/);
});

test('kubectl get nodes -w sees a status change made with kubectl patch --subresource=status', { skip }, async () => {
  const w = kubectlStream(s, ['get', 'nodes', '-w']);
  try {
    await w.waitFor(/edge1\s+Ready/);
    const patched = await kubectlOk(s, [
      'patch',
      'node',
      'edge1',
      '--subresource=status',
      '-p',
      '{"status":{"conditions":[{"type":"Ready","status":"False","reason":"EdgeDown"}]}}',
    ]);
    assert.match(patched, /node\/edge1 patched/);
    await w.waitFor(/edge1\s+NotReady\s+agent,edge/);
  } finally {
    w.stop();
  }
  // The status patch merged conditions by type and kept the addresses.
  const json = JSON.parse(await kubectlOk(s, ['get', 'node', 'edge1', '-o', 'json'])) as {
    status: { conditions: { type: string; status: string }[]; addresses: unknown[] };
  };
  assert.deepEqual(
    json.status.conditions.map((c) => [c.type, c.status]),
    [['Ready', 'False']],
  );
  assert.equal(json.status.addresses.length, 2);
});

test('kubectl apply creates a ConfigMap and a Pod, re-apply patches them', { skip }, async () => {
  const manifest = (v: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {mode: "${v}"}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: nginx
    image: nginx:1.25-${v}
    env: [{name: MODE, value: "x"}]
`;
  const first = await kubectlOk(s, ['apply', '-f', '-'], manifest('a'));
  assert.match(first, /configmap\/app-config created/);
  assert.match(first, /pod\/web created/);
  const again = await kubectlOk(s, ['apply', '-f', '-'], manifest('a'));
  assert.match(again, /configmap\/app-config unchanged/);
  const changed = await kubectlOk(s, ['apply', '-f', '-'], manifest('b'));
  assert.match(changed, /configmap\/app-config configured/);
  assert.equal(await kubectlOk(s, ['get', 'cm', 'app-config', '-o', 'jsonpath={.data.mode}']), 'b');
  // A pod's image is one of the few spec fields an update may change (see apiserver.validation.test.ts).
  assert.equal(await kubectlOk(s, ['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[0].image}']), 'nginx:1.25-b');
  const cms = await kubectlOk(s, ['get', 'cm']);
  assert.match(cms, /app-config\s+1\s+/);
});

test('kubectl get pods -o wide -A lists namespace, status and node columns', { skip }, async () => {
  const out = await kubectlOk(s, ['get', 'pods', '-o', 'wide', '-A']);
  assert.match(out, /NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
  assert.match(out, /default\s+web\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>/);
});

test('kubectl describe node lists its pods and events; describe pod shows events', { skip }, async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'on-edge', namespace: 'default' },
    spec: { nodeName: 'edge1', containers: [{ name: 'c', image: 'busybox:1.36' }] },
  };
  await kubectlOk(s, ['create', '-f', '-'], JSON.stringify(pod));
  const uid = await kubectlOk(s, ['get', 'pod', 'on-edge', '-o', 'jsonpath={.metadata.uid}']);
  const ev = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'on-edge.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'on-edge', uid, apiVersion: 'v1' },
    reason: 'Pulled',
    message: 'Container image already present on machine',
    type: 'Normal',
    count: 1,
    firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    source: { component: 'kubelet', host: 'edge1' },
  };
  await kubectlOk(s, ['create', '-f', '-'], JSON.stringify(ev));
  const node = await kubectlOk(s, ['describe', 'node', 'edge1']);
  assert.match(node, /Roles:\s+agent,edge/);
  assert.match(node, /Non-terminated Pods:\s+\(1 in total\)/);
  assert.match(node, /default\s+on-edge/);
  const desc = await kubectlOk(s, ['describe', 'pod', 'on-edge']);
  assert.match(desc, /Node:\s+edge1/);
  assert.match(desc, /Normal\s+Pulled\s+.*Container image already present on machine/);
});

test('kubectl delete pod: unscheduled pods go at once, scheduled ones stay Terminating until a grace-0 delete', { skip }, async () => {
  assert.match(await kubectlOk(s, ['delete', 'pod', 'web']), /pod "web" deleted/);
  const gone = await kubectl(s, ['get', 'pod', 'web']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /pods "web" not found/);

  await kubectlOk(s, ['delete', 'pod', 'on-edge', '--wait=false']);
  assert.match(await kubectlOk(s, ['get', 'pod', 'on-edge']), /on-edge\s+0\/1\s+Terminating/);
  // What the edge does once its containers are gone.
  await kubectlOk(s, ['delete', 'pod', 'on-edge', '--grace-period=0', '--force']);
  assert.notEqual((await kubectl(s, ['get', 'pod', 'on-edge'])).code, 0);
});

test('kubectl get lease -n kube-node-lease shows the holder', { skip }, async () => {
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'edge1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'edge1', leaseDurationSeconds: 40, renewTime: '2025-01-01T00:00:00.000000Z' },
  };
  await kubectlOk(s, ['create', '-f', '-'], JSON.stringify(lease));
  const out = await kubectlOk(s, ['get', 'lease', '-n', 'kube-node-lease']);
  assert.match(out, /NAME\s+HOLDER\s+AGE/);
  assert.match(out, /edge1\s+edge1\s+/);
});

test('kubectl create secret generic (sent as protobuf) stores base64 data with type Opaque', { skip }, async () => {
  assert.match(
    await kubectlOk(s, ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=pass=s3cret']),
    /secret\/creds created/,
  );
  assert.match(await kubectlOk(s, ['get', 'secret', 'creds']), /creds\s+Opaque\s+2\s+/);
  const pass = await kubectlOk(s, ['get', 'secret', 'creds', '-o', 'jsonpath={.data.pass}']);
  assert.equal(Buffer.from(pass, 'base64').toString(), 's3cret');
  const dup = await kubectl(s, ['create', 'secret', 'generic', 'creds', '--from-literal=a=b']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already exists/);
});

test('kubectl in a namespace that does not exist gets NotFound', { skip }, async () => {
  const r = await kubectl(s, ['create', 'configmap', 'x', '-n', 'nope', '--from-literal=a=b']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /namespaces "nope" not found/);
});

test('kubectl get ns shows the namespaces every cluster has', { skip }, async () => {
  const out = await kubectlOk(s, ['get', 'ns']);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`${ns}\\s+Active`));
});
