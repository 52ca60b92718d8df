import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeUsageStore, parseSample } from './store.ts';

const good = {
  nodeName: 'claimed-by-content',
  timestamp: '2026-01-01T00:00:00.000Z',
  windowSeconds: 15,
  node: { usageNanoCores: 10, memoryWorkingSetBytes: 20, memoryAvailableBytes: 5 },
  pods: [{ namespace: 'ns', name: 'p', uid: 'u', containers: [{ name: 'c', usageNanoCores: 1, workingSetBytes: 2, usageBytes: 3 }] }],
};

test('a usage sample is kept for the node whose session sent it, with only what metrics.k8s.io serves', () => {
  assert.deepEqual(parseSample('edge-a', good), {
    nodeName: 'edge-a',
    timestamp: good.timestamp,
    windowSeconds: 15,
    node: { usageNanoCores: 10, memoryWorkingSetBytes: 20 },
    pods: [{ namespace: 'ns', name: 'p', containers: [{ name: 'c', usageNanoCores: 1, workingSetBytes: 2 }] }],
  });
  // a first sample has no CPU rate yet
  const noRate = parseSample('edge-a', { ...good, node: { memoryWorkingSetBytes: 1 } });
  assert.deepEqual(noRate?.node, { memoryWorkingSetBytes: 1 });
});

test('a malformed sample is refused whole: wrong types, negative numbers, bad time, too many pods', () => {
  const bad: unknown[] = [
    null,
    'text',
    { ...good, timestamp: 'yesterday' },
    { ...good, node: { memoryWorkingSetBytes: -1 } },
    { ...good, node: { memoryWorkingSetBytes: 1, usageNanoCores: 'lots' } },
    { ...good, pods: {} },
    { ...good, pods: [{ namespace: 'ns', name: 'p', containers: [{ name: 'c', workingSetBytes: Number.NaN }] }] },
    { ...good, pods: [{ namespace: '', name: 'p', containers: [] }] },
    { ...good, pods: Array.from({ length: 1001 }, () => good.pods[0]) },
  ];
  for (const b of bad) assert.equal(parseSample('edge-a', b), undefined, JSON.stringify(b)?.slice(0, 80));
});

test('the store keeps the last sample per node', () => {
  const st = new NodeUsageStore();
  const a1 = parseSample('a', good);
  const a2 = parseSample('a', { ...good, timestamp: '2026-01-01T00:00:15.000Z' });
  const b = parseSample('b', good);
  for (const s of [a1, b, a2]) if (s !== undefined) st.put(s);
  assert.deepEqual(
    st.samples().map((s) => [s.nodeName, s.timestamp]),
    [
      ['a', '2026-01-01T00:00:15.000Z'],
      ['b', good.timestamp],
    ],
  );
  st.forget('a');
  assert.deepEqual(
    st.samples().map((s) => s.nodeName),
    ['b'],
  );
});
