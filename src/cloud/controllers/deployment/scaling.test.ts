import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { maxScaledDown, newRSReplicas, proportionalSizes, scaleDownOld } from './scaling.ts';
import { fenceposts, maxUnavailable, setNewReplicaSetAnnotations, specOf } from './util.ts';

const rs = (name: string, replicas: number, available: number, created: string, ann: Record<string, string> = {}): KubeObject => ({
  metadata: { name, creationTimestamp: created, annotations: ann },
  spec: { replicas },
  status: { replicas, availableReplicas: available },
});
const dep = (replicas: number, surge: unknown, unavailable: unknown): KubeObject => ({
  metadata: { name: 'web', generation: 1 },
  spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } },
});

test('fenceposts: defaults of 25%/25%, and 0/0 becomes unavailable 1', () => {
  assert.deepEqual(fenceposts(specOf({ spec: { replicas: 10 } })), { surge: 3, unavailable: 2 });
  assert.deepEqual(fenceposts(specOf(dep(4, 0, 0))), { surge: 0, unavailable: 1 });
  assert.equal(maxUnavailable(specOf(dep(2, 0, 5))), 2, 'never more than replicas');
});

test('rolling update arithmetic: the new ReplicaSet grows up to maxSurge, old ones shrink down to maxUnavailable', () => {
  const spec = specOf(dep(4, 1, 1));
  const old = rs('old', 4, 4, '2026-01-01T00:00:00Z');
  const fresh = rs('new', 0, 0, '2026-01-02T00:00:00Z');
  assert.equal(newRSReplicas(spec, [old, fresh], fresh), 1, '4 + 1 surge = 5 pods in all');
  const grown = rs('new', 1, 0, '2026-01-02T00:00:00Z');
  assert.equal(maxScaledDown(spec, [old, grown], grown), 1, '5 pods, 3 must stay available, the new one is not yet');
  assert.deepEqual([...scaleDownOld(spec, [old, grown], [old]).values()], [3], 'one of the 4 available old pods may go');
  const ready = rs('new', 1, 1, '2026-01-02T00:00:00Z');
  assert.equal(maxScaledDown(spec, [old, ready], ready), 2);
});

test('proportional scaling: a Deployment scaled mid-rollout shares the change by ReplicaSet size', () => {
  // 10 replicas, surge 3: old 8 + new 5 = 13 (both annotated max 13); scaled to 20 (max 23): 10 more to share.
  const spec = specOf(dep(20, 3, 2));
  const old = rs('old', 8, 8, '2026-01-01T00:00:00Z', { 'deployment.kubernetes.io/max-replicas': '13' });
  const fresh = rs('new', 5, 0, '2026-01-02T00:00:00Z', { 'deployment.kubernetes.io/max-replicas': '13' });
  const sizes = proportionalSizes(spec, [old, fresh], 13);
  assert.equal(sizes.get(old), 14);
  assert.equal(sizes.get(fresh), 9);
});

test('revision annotations: a reused ReplicaSet takes the next revision and keeps its old one in revision-history', () => {
  const d: KubeObject = { metadata: { name: 'web', annotations: { 'kubernetes.io/change-cause': 'undo' } }, spec: { replicas: 2 } };
  const reused = rs('old', 0, 0, '2026-01-01T00:00:00Z', { 'deployment.kubernetes.io/revision': '1' });
  assert.equal(setNewReplicaSetAnnotations(d, reused, 3, true), true);
  const ann = reused.metadata?.['annotations'] as Record<string, string>;
  assert.equal(ann['deployment.kubernetes.io/revision'], '3');
  assert.equal(ann['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(ann['kubernetes.io/change-cause'], 'undo');
  assert.equal(ann['deployment.kubernetes.io/desired-replicas'], undefined, 'replica annotations only on new ReplicaSets');
  assert.equal(setNewReplicaSetAnnotations(d, reused, 3, true), false, 'nothing changes the second time');
});
