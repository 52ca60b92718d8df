import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeShouldRun, pinToNode, targetNodeOf, withDaemonTolerations } from './nodes.ts';

const node = (name: string, labels: Record<string, string>, taints: Array<{ key: string; value?: string; effect: string }> = []) => ({
  metadata: { name, labels },
  spec: { taints },
});

test('node selector and required node affinity (labels and metadata.name fields) decide where a daemon runs', () => {
  const edge = node('e1', { 'node-role.kubernetes.io/edge': '', zone: 'a' });
  assert.equal(nodeShouldRun(edge, { nodeSelector: { 'node-role.kubernetes.io/edge': '' } }).shouldRun, true);
  assert.equal(nodeShouldRun(edge, { nodeSelector: { zone: 'b' } }).shouldRun, false);
  const terms = (t: unknown[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: t as never } } } });
  assert.equal(
    nodeShouldRun(
      edge,
      terms([
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['e1'] }] },
      ]),
    ).shouldRun,
    true,
  );
  assert.equal(nodeShouldRun(edge, terms([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }])).shouldRun, false);
  assert.equal(nodeShouldRun(node('n', { cpus: '8' }), terms([{ matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['4'] }] }])).shouldRun, true);
  assert.equal(nodeShouldRun(edge, terms([{}])).shouldRun, false, 'an empty term matches nothing');
});

test('taints: NoSchedule keeps new daemons off but lets running ones stay, NoExecute removes them; default tolerations cover node conditions', () => {
  const tainted = node('n', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
  assert.deepEqual(nodeShouldRun(tainted, {}), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRun(tainted, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }), {
    shouldRun: true,
    shouldContinueRunning: true,
  });
  assert.deepEqual(nodeShouldRun(node('n', {}, [{ key: 'evict', effect: 'NoExecute' }]), {}), { shouldRun: false, shouldContinueRunning: false });
  for (const key of ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready']) {
    assert.deepEqual(nodeShouldRun(node('n', {}, [{ key, effect: 'NoExecute' }]), {}), { shouldRun: true, shouldContinueRunning: true }, key);
  }
  assert.equal(nodeShouldRun(node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), {}).shouldRun, true);
  assert.equal(nodeShouldRun(node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), {}).shouldRun, false);
  assert.equal(nodeShouldRun(node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), { hostNetwork: true }).shouldRun, true);
  assert.equal(nodeShouldRun(node('n', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), {}).shouldRun, true);
});

test('daemon pods are pinned to their node by one metadata.name term, keeping preferred affinity; tolerations are not doubled', () => {
  const spec = pinToNode(
    {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }],
        },
      },
    },
    'edge-1',
  );
  assert.deepEqual(spec['affinity'], {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['edge-1'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }],
    },
  });
  assert.equal(targetNodeOf({ spec }), 'edge-1');
  assert.equal(targetNodeOf({ spec: { ...spec, nodeName: 'bound' } }), 'bound');
  const once = withDaemonTolerations([], false);
  assert.equal(withDaemonTolerations(once, false).length, once.length);
  assert.equal(once.length, 6);
});
