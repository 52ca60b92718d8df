import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logger } from '../../core/log.ts';
import { Engine } from '../engine.ts';
import { findResource } from '../resources.ts';
import { Store } from '../store.ts';
import { computeCounts } from './pdb.ts';

function engine(): Engine {
  const log = logger('pdb-test');
  log.level = 'silent';
  const e = new Engine(new Store(':memory:', log));
  e.bootstrap();
  return e;
}

const podDef = findResource('', 'v1', 'pods');
const rsDef = findResource('apps', 'v1', 'replicasets');

function addPod(e: Engine, name: string, ready: boolean, owner?: { name: string; uid: string }): void {
  if (podDef === undefined) throw new Error('no pods');
  const created = e.create(podDef, 'default', {
    metadata: {
      name,
      labels: { app: 'x' },
      ...(owner === undefined ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true }] }),
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
  });
  e.update(podDef, 'default', name, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, 'status');
}

const pdb = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
  metadata: { name: 'b', namespace: 'default', generation: 1 },
  spec: { selector: { matchLabels: { app: 'x' } }, ...spec },
  status,
});

test('PodDisruptionBudget counts: minAvailable as a number counts the selected pods, unready ones are not healthy', () => {
  const e = engine();
  addPod(e, 'a', true);
  addPod(e, 'b', true);
  addPod(e, 'c', false);
  assert.deepEqual(computeCounts(e, pdb({ minAvailable: 1 })), {
    expectedPods: 3,
    desiredHealthy: 1,
    currentHealthy: 2,
    disruptionsAllowed: 1,
    disruptedPods: {},
  });
  assert.equal(computeCounts(e, pdb({ minAvailable: 2 })).disruptionsAllowed, 0);
  // An empty selector selects nothing.
  assert.equal(computeCounts(e, { ...pdb({ minAvailable: 0 }), spec: { selector: {}, minAvailable: 0 } }).expectedPods, 0);
});

test('PodDisruptionBudget counts: percentages and maxUnavailable scale with the controller, rounding up; recent evictions count as disrupted', () => {
  const e = engine();
  if (rsDef === undefined) throw new Error('no replicasets');
  const rs = e.create(rsDef, 'default', {
    metadata: { name: 'r' },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
  const owner = { name: 'r', uid: String(rs['metadata']['uid']) };
  for (const n of ['a', 'b', 'c', 'd']) addPod(e, n, true, owner);
  assert.deepEqual(computeCounts(e, pdb({ maxUnavailable: '30%' })), {
    expectedPods: 5,
    desiredHealthy: 3,
    currentHealthy: 4,
    disruptionsAllowed: 1,
    disruptedPods: {},
  });
  assert.equal(computeCounts(e, pdb({ minAvailable: '50%' })).desiredHealthy, 3);
  const now = Date.now();
  const recent = new Date(now - 10_000).toISOString();
  const stale = new Date(now - 10 * 60_000).toISOString();
  const counts = computeCounts(e, pdb({ maxUnavailable: 1 }, { disruptedPods: { a: recent, b: stale, gone: recent } }), now);
  assert.deepEqual(counts.disruptedPods, { a: recent });
  assert.equal(counts.currentHealthy, 3);
  assert.equal(counts.disruptionsAllowed, 0);
});
