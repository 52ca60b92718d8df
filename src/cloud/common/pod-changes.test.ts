import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../kube/rest.ts';
import { edgeFingerprint, podChangedForEdge } from './pod-changes.ts';

const pod = (o: { rv?: string; labels?: Record<string, string>; phase?: string; image?: string; deletionTimestamp?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'u1',
    resourceVersion: o.rv ?? '1',
    generation: 1,
    labels: o.labels ?? { app: 'web' },
    ...(o.deletionTimestamp === undefined ? {} : { deletionTimestamp: o.deletionTimestamp }),
  },
  spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: o.image ?? 'busybox' }] },
  status: { phase: o.phase ?? 'Pending' },
});

describe('pod changes an edge is told about', () => {
  test('a status-only change (new resourceVersion, other status) is not one', () => {
    assert.equal(podChangedForEdge(pod(), pod({ rv: '2', phase: 'Running' })), false);
    assert.equal(edgeFingerprint(pod()), edgeFingerprint(pod({ rv: '2', phase: 'Running' })));
  });

  test('labels, deletionTimestamp and spec changes are', () => {
    for (const changed of [pod({ labels: { app: 'web', v: '2' } }), pod({ deletionTimestamp: '2026-12-01T00:00:00Z' }), pod({ image: 'nginx' })]) {
      assert.equal(podChangedForEdge(pod(), changed), true);
      assert.notEqual(edgeFingerprint(pod()), edgeFingerprint(changed));
    }
  });

  test('the fingerprint does not depend on key order; other kinds have none', () => {
    const a = pod();
    const b: KubeObject = { status: a['status'], spec: a['spec'], metadata: Object.fromEntries(Object.entries(a.metadata ?? {}).reverse()), kind: 'Pod' };
    assert.equal(edgeFingerprint(a), edgeFingerprint(b));
    assert.equal(edgeFingerprint({ kind: 'ConfigMap', metadata: { name: 'x' } }), undefined);
  });
});
