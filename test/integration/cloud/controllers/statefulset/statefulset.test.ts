import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { startBatchTestKubelet, startControlPlane, type BatchTestKubelet, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

let cp: ControlPlaneTest;
let kubelet: BatchTestKubelet;
const seen = new Map<string, number>();
before(async () => {
  cp = await startControlPlane(['statefulset']);
  // Pods of "web" become Ready 400 ms after the kubelet first sees them; pods of "par" never do.
  kubelet = startBatchTestKubelet(cp.admin, {
    fate: (pod) => {
      const n = String(pod.metadata?.name);
      if (n.startsWith('par-')) return { phase: 'Running', ready: false };
      const key = `${n}/${pod.metadata?.uid}`;
      if (!seen.has(key)) seen.set(key, Date.now());
      return { phase: 'Running', ready: Date.now() - (seen.get(key) ?? 0) > 400 };
    },
  });
});
after(async () => {
  await kubelet?.stop();
  await cp?.cleanup();
});

function sts(name: string, image: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      // Bound to a node, so deletions wait for the test kubelet as they would for an edge.
      template: { metadata: { labels: { app: name } }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image }] } },
      ...extra,
    },
  });
}

async function podsOf(app: string): Promise<KubeObject[]> {
  return (await cp.admin.get<{ items: KubeObject[] }>(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).items;
}

const ready = (p: KubeObject): boolean =>
  ((p['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
const imageOf = (p: KubeObject): string => String((p['spec'] as { containers: Array<{ image: string }> }).containers[0]?.image);

/** Polls the pods of `app` until `done`, checking `invariant` on every snapshot. */
async function observe(
  app: string,
  invariant: (pods: Map<string, KubeObject>) => void,
  done: (pods: Map<string, KubeObject>) => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    async () => {
      const m = new Map((await podsOf(app)).map((p) => [String(p.metadata?.name), p]));
      invariant(m);
      return done(m);
    },
    timeoutMs,
    50,
  );
}

test('OrderedReady: web-0, web-1, web-2 are created one at a time, each after the previous is Running and Ready, with stable identities', {
  skip,
}, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], sts('web', 'busybox:1'));
  const violations: string[] = [];
  await observe(
    'web',
    (m) => {
      for (let i = 1; i < 3; i++)
        if (m.has(`web-${i}`) && !(m.get(`web-${i - 1}`) && ready(m.get(`web-${i - 1}`) as KubeObject)))
          violations.push(`web-${i} before web-${i - 1} was ready`);
    },
    (m) => m.size === 3 && [...m.values()].every(ready),
  );
  assert.deepEqual(violations, []);
  const p1 = (await podsOf('web')).find((p) => p.metadata?.name === 'web-1') as KubeObject;
  const labels = p1.metadata?.['labels'] as Record<string, string>;
  assert.equal(labels['statefulset.kubernetes.io/pod-name'], 'web-1');
  assert.equal(labels['apps.kubernetes.io/pod-index'], '1');
  assert.match(labels['controller-revision-hash'] ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal((p1['spec'] as { hostname: string }).hostname, 'web-1');
  assert.equal((p1['spec'] as { subdomain: string }).subdomain, 'web');
  const out = await kubectlOk(cp.api, ['rollout', 'status', 'sts/web', '--timeout=60s']);
  // kubectl reports a set with a partition (0 included) as a partitioned roll out.
  assert.match(out, /partitioned roll out complete: 3 new pods have been updated/);
  const s = JSON.parse(await kubectlOk(cp.api, ['get', 'sts', 'web', '-o', 'json'])) as { status: Record<string, unknown> };
  assert.equal(s.status['readyReplicas'], 3);
  assert.equal(s.status['currentRevision'], s.status['updateRevision']);
});

test('a deleted pod comes back under the same name; the set keeps its pods across a cloudcore restart', { skip }, async () => {
  const before = (await podsOf('web')).find((p) => p.metadata?.name === 'web-0') as KubeObject;
  await cp.admin.delete('/api/v1/namespaces/default/pods/web-0');
  await waitFor(async () => {
    const p = (await podsOf('web')).find((x) => x.metadata?.name === 'web-0');
    return p !== undefined && p.metadata?.uid !== before.metadata?.uid && ready(p);
  }, 30_000);
  const uids = (await podsOf('web')).map((p) => p.metadata?.uid).sort();
  cp = await cp.restart();
  await kubectlOk(cp.api, ['rollout', 'status', 'sts/web', '--timeout=60s']);
  await cp.admin.patch('/apis/apps/v1/namespaces/default/statefulsets/web', { metadata: { annotations: { poke: '1' } } }, 'merge');
  await waitFor(async () => {
    const s = await cp.admin.get<{ metadata: { generation: number }; status: { observedGeneration: number } }>(
      '/apis/apps/v1/namespaces/default/statefulsets/web',
    );
    return s.status.observedGeneration === s.metadata.generation;
  }, 30_000);
  assert.deepEqual((await podsOf('web')).map((p) => p.metadata?.uid).sort(), uids);
});

test('RollingUpdate with a partition updates from the highest ordinal down to the partition, then the rest', { skip }, async () => {
  await cp.admin.patch(
    '/apis/apps/v1/namespaces/default/statefulsets/web',
    { spec: { updateStrategy: { rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } },
    'strategic',
  );
  const violations: string[] = [];
  await observe(
    'web',
    (m) => {
      if (
        imageOf(m.get('web-1') ?? ({ spec: { containers: [{}] } } as KubeObject)) === 'busybox:2' &&
        imageOf(m.get('web-2') ?? ({ spec: { containers: [{}] } } as KubeObject)) !== 'busybox:2'
      )
        violations.push('web-1 updated before web-2');
      if (imageOf(m.get('web-0') ?? ({ spec: { containers: [{}] } } as KubeObject)) === 'busybox:2') violations.push('web-0 updated below the partition');
    },
    (m) =>
      m.size === 3 &&
      imageOf(m.get('web-1') as KubeObject) === 'busybox:2' &&
      imageOf(m.get('web-2') as KubeObject) === 'busybox:2' &&
      [...m.values()].every(ready),
  );
  assert.deepEqual(violations, []);
  await kubectlOk(cp.api, ['rollout', 'status', 'sts/web', '--timeout=60s']);
  await cp.admin.patch('/apis/apps/v1/namespaces/default/statefulsets/web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'strategic');
  await observe(
    'web',
    () => {},
    (m) => m.size === 3 && [...m.values()].every((p) => imageOf(p) === 'busybox:2' && ready(p)),
  );
  const out = await kubectlOk(cp.api, ['rollout', 'status', 'sts/web', '--timeout=60s']);
  assert.match(out, /roll out complete: 3 new pods have been updated/);
  const history = await kubectlOk(cp.api, ['rollout', 'history', 'sts/web']);
  assert.match(history, /\n1\s+\S+\n2\s+\S+/);
});

test('scale down removes the highest ordinal first, one at a time', { skip }, async () => {
  await cp.admin.patch('/apis/apps/v1/namespaces/default/statefulsets/web', { spec: { replicas: 1 } }, 'merge');
  const violations: string[] = [];
  await observe(
    'web',
    (m) => {
      const web1 = m.get('web-1');
      if ((web1 === undefined || web1.metadata?.['deletionTimestamp'] !== undefined) && m.has('web-2'))
        violations.push('web-1 removed while web-2 was still there');
    },
    (m) => m.size === 1 && m.has('web-0'),
  );
  assert.deepEqual(violations, []);
});

test('Parallel creates every pod at once without waiting for readiness', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], sts('par', 'busybox:1', { podManagementPolicy: 'Parallel' }));
  await waitFor(async () => (await podsOf('par')).length === 3, 30_000);
  assert.ok(
    (await podsOf('par')).every((p) => !ready(p)),
    'none was ready, all were created',
  );
});

test('volumeClaimTemplates are refused with a FailedCreate event that says why (no PVCs in the embedded server)', { skip }, async () => {
  await kubectlOk(
    cp.api,
    ['apply', '-f', '-'],
    sts('claims', 'busybox:1', {
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }),
  );
  const msg = await waitFor(async () => {
    const out = await kubectlOk(cp.api, ['get', 'events', '--field-selector', 'involvedObject.name=claims', '-o', 'jsonpath={.items[*].message}']);
    return /volumeClaimTemplates are not supported/.test(out) ? out : undefined;
  }, 30_000);
  assert.match(String(msg), /PersistentVolumeClaims/);
  assert.equal((await podsOf('claims')).length, 0);
});

test('kubectl rollout undo sts brings the previous template back', { skip }, async () => {
  await cp.admin.patch('/apis/apps/v1/namespaces/default/statefulsets/web', { spec: { replicas: 2 } }, 'merge');
  await kubectlOk(cp.api, ['rollout', 'undo', 'sts/web']);
  await observe(
    'web',
    () => {},
    (m) => m.size === 2 && [...m.values()].every((p) => imageOf(p) === 'busybox:1' && ready(p)),
  );
  const out = await kubectlOk(cp.api, ['rollout', 'status', 'sts/web', '--timeout=60s']);
  assert.match(out, /roll out complete: 2 new pods have been updated/);
});

test('pods orphaned by deleting their StatefulSet (--cascade=orphan) are adopted by the set created again, not duplicated', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], sts('orph', 'busybox:1', { replicas: 2, podManagementPolicy: 'Parallel' }));
  await waitFor(async () => {
    const ps = await podsOf('orph');
    return ps.length === 2 && ps.every(ready);
  }, 30_000);
  const uids = (await podsOf('orph')).map((p) => p.metadata?.uid).sort();
  await cp.admin.delete('/apis/apps/v1/namespaces/default/statefulsets/orph');
  // What the garbage collector does for --cascade=orphan: the pods lose their owner reference.
  for (const p of await podsOf('orph'))
    await cp.admin.patch(`/api/v1/namespaces/default/pods/${p.metadata?.name}`, { metadata: { ownerReferences: null } }, 'merge');
  await kubectlOk(cp.api, ['apply', '-f', '-'], sts('orph', 'busybox:1', { replicas: 2, podManagementPolicy: 'Parallel' }));
  const set = await waitFor(async () => {
    const s = await cp.admin.get<{ metadata: { uid: string }; status?: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/default/statefulsets/orph');
    return s.status?.readyReplicas === 2 ? s : undefined;
  }, 30_000);
  const pods = await podsOf('orph');
  assert.deepEqual(pods.map((p) => p.metadata?.uid).sort(), uids, 'the same pods');
  for (const p of pods) assert.equal(((p.metadata?.['ownerReferences'] ?? []) as Array<{ uid: string }>)[0]?.uid, set?.metadata.uid);
});
