import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube/rest.ts';
import { EVICT_OPT_IN_LABEL, evictionTime, taintEvicts } from './eviction.ts';
import { reconcileTaints } from './taints.ts';

function node(ready: string, spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'n' }, spec, status: { conditions: [{ type: 'Ready', status: ready }] } };
}

test('taints follow the Ready condition and cordon; other taints and timeAdded are kept', () => {
  assert.equal(reconcileTaints(node('True'), 'T'), undefined);
  assert.deepEqual(reconcileTaints(node('Unknown'), 'T'), [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T' },
  ]);
  const tainted = node('False', {
    taints: [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'old' },
      { key: 'mine', effect: 'NoSchedule' },
    ],
  });
  assert.deepEqual(reconcileTaints(tainted, 'T'), [
    { key: 'mine', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: 'T' },
  ]);
  const kept = node('Unknown', {
    taints: [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'old' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ],
  });
  assert.equal(reconcileTaints(kept, 'T'), undefined);
  assert.deepEqual(reconcileTaints(node('True', { unschedulable: true }), 'T'), [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
});

test('DiskPressure True taints the node NoSchedule (TaintNodesByCondition); the taint goes when it clears', () => {
  const full: KubeObject = {
    metadata: { name: 'n' },
    spec: {},
    status: {
      conditions: [
        { type: 'DiskPressure', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
    },
  };
  assert.deepEqual(reconcileTaints(full, 'T'), [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }]);
  const recovered = node('True', { taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] });
  assert.deepEqual(reconcileTaints(recovered, 'T'), []);
});

test('edge nodes evict nothing for NotReady/unreachable unless opted in; tolerationSeconds count from timeAdded', () => {
  const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  assert.equal(taintEvicts(unreachable, true, {}), false);
  assert.equal(taintEvicts(unreachable, true, { [EVICT_OPT_IN_LABEL]: 'true' }), true);
  assert.equal(taintEvicts(unreachable, false, {}), true);
  assert.equal(taintEvicts({ key: 'maintenance', effect: 'NoExecute' }, true, {}), true, 'a user NoExecute taint evicts on the edge too');
  assert.equal(taintEvicts({ key: 'x', effect: 'NoSchedule' }, false, {}), false);

  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const taint = { ...unreachable, timeAdded: '2026-01-01T00:00:00Z' };
  const pod = (tolerations: unknown[]): KubeObject => ({ spec: { tolerations } });
  assert.equal(evictionTime(pod([]), [taint], t0 + 5), t0 + 300_000, 'not mentioned: the default 300 s');
  assert.equal(evictionTime(pod([]), [{ key: 'maintenance', effect: 'NoExecute' }], t0 + 5), t0 + 5, 'not tolerated: now');
  assert.equal(evictionTime(pod([{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), [taint], t0), t0 + 300_000);
  assert.equal(evictionTime(pod([{ operator: 'Exists' }]), [taint], t0), undefined, 'tolerated for ever');
});

test('a node that has posted no Ready condition yet gets no taint', () => {
  assert.equal(reconcileTaints({ metadata: { name: 'n' }, spec: {} }, 'T'), undefined);
});
