import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { deletionOrder } from './ranking.ts';

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string }): KubeObject => ({
  metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec: o.node === undefined ? {} : { nodeName: o.node },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.created ?? '2026-01-01T00:00:00Z' }],
  },
});

test('surplus pods go unscheduled first, then pending, then not ready, then ready; newest first among equals', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const order = deletionOrder(
    [
      pod('ready-old', { node: 'a', created: '2026-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'b', created: '2026-05-31T23:59:00Z' }),
      pod('not-ready', { node: 'c', ready: false }),
      pod('pending', { node: 'd', phase: 'Pending', ready: false }),
      pod('unscheduled', { phase: 'Pending', ready: false }),
    ],
    now,
  ).map((p) => p.metadata?.name);
  assert.deepEqual(order, ['unscheduled', 'pending', 'not-ready', 'ready-new', 'ready-old']);
});

test('pods that share a node with more of their siblings go first', () => {
  const order = deletionOrder([pod('alone', { node: 'a' }), pod('crowded-1', { node: 'b' }), pod('crowded-2', { node: 'b' })]).map((p) => p.metadata?.name);
  assert.equal(order[2], 'alone');
});
