import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshBridgeName, removeMeshChains } from './edgemesh.ts';

test('bridge names fit Linux interface names and differ per node and instance', () => {
  const names = [meshBridgeName('default', 1), meshBridgeName('default', 2), meshBridgeName('a-very-long-instance-name-indeed', 50)];
  for (const n of names) assert.ok(n.length <= 15, n);
  assert.equal(new Set(names).size, 3);
});

test("reset removes its nodes' chains and the jumps into them, not another instance's (fake iptables recording the calls)", () => {
  const calls: string[] = [];
  const saved = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KE-MESH-edge-node-1 - [0:0]',
    ':KE-MESH-other-node - [0:0]',
    ':DOCKER - [0:0]',
    '-A PREROUTING -i kem1-abcdef -j KE-MESH-edge-node-1',
    '-A OUTPUT -j KE-MESH-edge-node-1',
    '-A OUTPUT -j KE-MESH-other-node',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    'COMMIT',
  ].join('\n');
  const removed = removeMeshChains(
    () => {},
    ['edge-node-1'],
    (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return { status: 0, stdout: cmd === 'iptables-save' ? saved : '', stderr: '' };
    },
  );
  assert.deepEqual(removed, ['nat/KE-MESH-edge-node-1']);
  assert.ok(calls.includes('iptables -w -t nat -D PREROUTING -i kem1-abcdef -j KE-MESH-edge-node-1'));
  assert.ok(calls.includes('iptables -w -t nat -D OUTPUT -j KE-MESH-edge-node-1'));
  assert.ok(calls.includes('iptables -w -t nat -X KE-MESH-edge-node-1'));
  assert.ok(!calls.some((c) => c.includes('DOCKER')), 'chains that are not ours are left alone');
  assert.ok(!calls.some((c) => c.includes('other-node')), "another instance's node keeps its chain");
});
