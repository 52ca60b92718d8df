import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { rawRequest, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let s: TestServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let coord: k8s.CoordinationV1Api;

function client(server: TestServer): void {
  kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeConfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  coord = kc.makeApiClient(k8s.CoordinationV1Api);
}

before(async () => {
  s = await startTestServer();
  client(s);
});
after(async () => {
  await s.cleanup();
});

function token(): string {
  return readFileSync(join(s.dataDir, 'apiserver-admin.token'), 'utf8').trim();
}

async function apiError(
  p: Promise<unknown>,
): Promise<{ code: number; body: { kind: string; reason: string; code: number; details?: { name?: string; kind?: string } } }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) return { code: err.code, body: JSON.parse(String(err.body)) };
    throw err;
  }
  throw new Error('expected the call to fail');
}

const pod = (name: string, extra: Record<string, unknown> = {}): k8s.V1Pod => ({
  metadata: { name, labels: { app: 'demo', tier: name } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...extra },
});

test('CRUD with Kubernetes semantics: metadata, 409 AlreadyExists, 404 NotFound, stale update 409 Conflict', async () => {
  const created = await core.createNamespacedPod({ namespace: 'default', body: pod('p1') });
  assert.ok(created.metadata?.uid);
  assert.ok(created.metadata?.creationTimestamp);
  assert.equal(created.status?.phase, 'Pending');
  const rv1 = Number(created.metadata?.resourceVersion);
  assert.ok(rv1 > 0);

  const dup = await apiError(core.createNamespacedPod({ namespace: 'default', body: pod('p1') }));
  assert.equal(dup.code, 409);
  assert.equal(dup.body.reason, 'AlreadyExists');
  assert.deepEqual([dup.body.details?.name, dup.body.details?.kind], ['p1', 'pods']);

  const missing = await apiError(core.readNamespacedPod({ namespace: 'default', name: 'nope' }));
  assert.equal(missing.code, 404);
  assert.equal(missing.body.kind, 'Status');
  assert.equal(missing.body.reason, 'NotFound');

  const fresh = await core.readNamespacedPod({ namespace: 'default', name: 'p1' });
  fresh.metadata!.labels = { ...fresh.metadata!.labels, changed: 'yes' };
  const updated = await core.replaceNamespacedPod({ namespace: 'default', name: 'p1', body: fresh });
  assert.ok(Number(updated.metadata?.resourceVersion) > rv1);
  const stale = await apiError(core.replaceNamespacedPod({ namespace: 'default', name: 'p1', body: fresh }));
  assert.equal(stale.code, 409);
  assert.equal(stale.body.reason, 'Conflict');

  const nsMissing = await apiError(core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'x' } } }));
  assert.equal(nsMissing.code, 404);
});

test('status subresource: PATCH /status changes only status, a normal update keeps the stored status', async () => {
  const statusPatch = {
    status: { phase: 'Running', podIP: '10.1.0.7', conditions: [{ type: 'Ready', status: 'True' }] },
    metadata: { labels: { ignored: 'x' } },
  };
  const p = await core.patchNamespacedPodStatus(
    { namespace: 'default', name: 'p1', body: statusPatch },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  assert.equal(p.status?.phase, 'Running');
  assert.equal(p.metadata?.labels?.['ignored'], undefined);
  // conditions merge by type
  const p2 = await core.patchNamespacedPodStatus(
    { namespace: 'default', name: 'p1', body: { status: { conditions: [{ type: 'Initialized', status: 'True' }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  assert.deepEqual(p2.status?.conditions?.map((c) => c.type).sort(), ['Initialized', 'Ready']);
  // a main-resource patch cannot touch status
  const p3 = await core.patchNamespacedPod(
    { namespace: 'default', name: 'p1', body: { status: { phase: 'Failed' }, metadata: { labels: { via: 'patch' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  assert.equal(p3.status?.phase, 'Running');
  assert.equal(p3.metadata?.labels?.['via'], 'patch');
  // JSON patch
  const p4 = await core.patchNamespacedPod(
    { namespace: 'default', name: 'p1', body: [{ op: 'add', path: '/metadata/annotations', value: { a: '1' } }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  assert.equal(p4.metadata?.annotations?.['a'], '1');
});

test('label and field selectors filter lists; an unknown field selector is a 400', async () => {
  await core.createNamespacedPod({ namespace: 'default', body: pod('p2', { nodeName: 'edge-a' }) });
  await core.createNamespacedPod({ namespace: 'default', body: pod('p3', { nodeName: 'edge-b' }) });
  const names = (l: k8s.V1PodList) => l.items.map((p) => p.metadata?.name).sort();
  assert.deepEqual(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=edge-a' })), ['p2']);
  assert.deepEqual(names(await core.listNamespacedPod({ namespace: 'default', labelSelector: 'tier in (p2,p3),tier!=p3' })), ['p2']);
  assert.deepEqual(names(await core.listNamespacedPod({ namespace: 'default', labelSelector: 'changed' })), ['p1']);
  assert.deepEqual(names(await core.listNamespacedPod({ namespace: 'default', labelSelector: '!changed,app=demo' })), ['p2', 'p3']);
  assert.deepEqual(names(await core.listNamespacedPod({ namespace: 'default', fieldSelector: 'status.phase=Running' })), ['p1']);
  const bad = await apiError(core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.bogus=1' }));
  assert.equal(bad.code, 400);
});

test('graceful pod deletion: deletionTimestamp first, removal on gracePeriodSeconds 0; uid precondition checked', async () => {
  const del = await core.deleteNamespacedPod({ namespace: 'default', name: 'p2', body: { gracePeriodSeconds: 15 } });
  assert.ok(del.metadata?.deletionTimestamp);
  assert.equal(del.metadata?.deletionGracePeriodSeconds, 15);
  const still = await core.readNamespacedPod({ namespace: 'default', name: 'p2' });
  assert.ok(still.metadata?.deletionTimestamp);
  const wrongUid = await apiError(
    core.deleteNamespacedPod({ namespace: 'default', name: 'p2', body: { gracePeriodSeconds: 0, preconditions: { uid: 'not-the-uid' } } }),
  );
  assert.equal(wrongUid.code, 409);
  await core.deleteNamespacedPod({ namespace: 'default', name: 'p2', body: { gracePeriodSeconds: 0, preconditions: { uid: still.metadata!.uid! } } });
  assert.equal((await apiError(core.readNamespacedPod({ namespace: 'default', name: 'p2' }))).code, 404);
  // Other kinds answer DELETE with a Success Status.
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'gone' }, data: { a: 'b' } } });
  const st = await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'gone' });
  assert.equal(st.status, 'Success');
});

test('leases: create and renew through CoordinationV1Api', async () => {
  const l = await coord.createNamespacedLease({
    namespace: 'kube-node-lease',
    body: { metadata: { name: 'edge-a' }, spec: { holderIdentity: 'edge-a', leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() } },
  });
  assert.equal(l.spec?.holderIdentity, 'edge-a');
  l.spec!.renewTime = new k8s.V1MicroTime(Date.now() + 1000);
  const renewed = await coord.replaceNamespacedLease({ namespace: 'kube-node-lease', name: 'edge-a', body: l });
  assert.ok(Number(renewed.metadata?.resourceVersion) > Number(l.metadata?.resourceVersion));
});

test('an informer (list + watch) sees add, update and delete', async () => {
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
  informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.['v']}`));
  informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
  informer.on('error', () => {});
  await informer.start();
  try {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { v: '1' } } });
    await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'watched', body: { data: { v: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'watched' });
    const t0 = Date.now();
    while (seen.length < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, ['add:watched', 'update:watched:2', 'delete:watched']);
  } finally {
    await informer.stop();
  }
});

test('watch with a label selector turns a label change into DELETED', async () => {
  const list = await core.listNamespacedPod({ namespace: 'default' });
  const events: { type: string; name?: string }[] = [];
  const w = new k8s.Watch(kc);
  const ctl = await w.watch(
    '/api/v1/namespaces/default/pods',
    { labelSelector: 'app=demo', resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (type, obj: k8s.V1Pod) => events.push({ type, ...(obj.metadata?.name === undefined ? {} : { name: obj.metadata.name }) }),
    () => {},
  );
  try {
    await core.patchNamespacedPod(
      { namespace: 'default', name: 'p3', body: { metadata: { labels: { app: 'other' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const t0 = Date.now();
    while (events.length < 1 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events[0], { type: 'DELETED', name: 'p3' });
  } finally {
    ctl.abort();
  }
});

test('HTTP edge: no token → 401 Status, bad JSON → 400, > 3 MiB → 413, health and version are open', async () => {
  const un = await rawRequest(s, 'GET', '/api/v1/pods');
  assert.equal(un.status, 401);
  assert.equal(JSON.parse(un.body).reason, 'Unauthorized');
  const bad = await rawRequest(s, 'POST', '/api/v1/namespaces/default/configmaps', { token: token(), body: '{"metadata":' });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).kind, 'Status');
  const big = await rawRequest(s, 'POST', '/api/v1/namespaces/default/configmaps', { token: token(), body: Buffer.alloc(3 * 1024 * 1024 + 10, 'a') });
  assert.equal(big.status, 413);
  assert.equal((await rawRequest(s, 'GET', '/healthz')).body, 'ok');
  assert.equal(JSON.parse((await rawRequest(s, 'GET', '/version')).body).gitVersion, 'v1.32.10');
  const odd: [string, string, string | undefined, Record<string, string>][] = [
    ['POST', '/api/v1/namespaces/default/configmaps', '[1,2]', {}],
    ['POST', '/api/v1/namespaces/default/configmaps', '"str"', {}],
    ['PATCH', '/api/v1/namespaces/default/configmaps/x', '{}', { 'Content-Type': 'text/plain' }],
    ['PATCH', '/api/v1/nodes/none', '[{"op":"bogus"}]', { 'Content-Type': 'application/json-patch+json' }],
    ['GET', '/api/v1/pods?watch=true&resourceVersion=abc', undefined, {}],
    ['GET', '/api/v1/namespaces/%E0%A4%A/pods', undefined, {}],
    ['PUT', '/api/v1/namespaces/default/pods/p1', '{"metadata":{"name":"other"}}', {}],
    ['POST', '/api/v1/namespaces/default/pods', '{"kind":"Node","metadata":{"name":"n"}}', {}],
    ['POST', '/api/v1/namespaces/default/configmaps', '{"metadata":{"name":"UPPER"}}', {}],
  ];
  for (const [method, path, body, headers] of odd) {
    const r = await rawRequest(s, method, path, { token: token(), ...(body === undefined ? {} : { body }), headers });
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${body ?? ''} → ${r.status} ${r.body}`);
    assert.equal(JSON.parse(r.body).kind, 'Status');
  }
  // still serving after all that
  assert.equal((await rawRequest(s, 'GET', '/api/v1/namespaces/default', { token: token() })).status, 200);
});

test('restart keeps objects, CA and token; resourceVersions keep increasing; an old watch rv gets 410 Expired', async () => {
  const before = await core.readNamespacedPod({ namespace: 'default', name: 'p1' });
  const caBefore = s.caPem;
  s = await s.restart();
  client(s);
  assert.equal(s.caPem, caBefore);
  const after = await core.readNamespacedPod({ namespace: 'default', name: 'p1' });
  assert.equal(after.metadata?.uid, before.metadata?.uid);
  assert.equal(after.status?.phase, 'Running');
  const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-restart' } } });
  assert.ok(Number(cm.metadata?.resourceVersion) > Number(before.metadata?.resourceVersion));

  const res = await rawRequest(s, 'GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=1&timeoutSeconds=2', { token: token() });
  const first = JSON.parse(res.body.split('\n')[0] ?? '{}') as { type: string; object: { code: number; reason: string } };
  assert.equal(first.type, 'ERROR');
  assert.equal(first.object.code, 410);
  assert.equal(first.object.reason, 'Expired');
});
