// EdgeMesh's nat chain with the real iptables, in a network namespace of the test's own: created with the two
// jumps, rules rewritten as Services change, traffic to a Service address really DNATed to the listener, and
// nothing of ours left after removal (iptables-save before/after).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MeshChain, chainName, ourChains, removeChain } from '../../../../src/edge/edgemesh/iptables/chain.ts';
import { commandRunner } from '../../../../src/edge/edgemesh/iptables/run.ts';
import { createNetns, deleteNetns, inNs, natRules, netnsAvailable } from '../../../helpers/netns.ts';
import { skipUnless } from '../../../helpers/skip.ts';

const skip = skipUnless(netnsAvailable(), 'root with ip netns and iptables');
let ns = '';

before(() => {
  if (skip !== false) return;
  ns = createNetns('ke-mesh-ipt');
  // an interface for PREROUTING (a veth pair: no dummy module on every kernel) and a route for the mesh subnet, as docker0 gives on a host
  inNs(ns, 'ip', ['link', 'add', 'mesh0', 'type', 'veth', 'peer', 'name', 'mesh0p']);
  inNs(ns, 'ip', ['link', 'set', 'mesh0p', 'up']);
  inNs(ns, 'ip', ['addr', 'add', '172.30.0.1/24', 'dev', 'mesh0']);
  inNs(ns, 'ip', ['link', 'set', 'mesh0', 'up']);
  inNs(ns, 'ip', ['route', 'add', '9.251.0.0/16', 'dev', 'mesh0']);
});

after(() => {
  if (ns !== '') deleteNetns(ns);
});

test('the chain is created with its jumps, follows the rules, and leaves nothing behind', { skip }, () => {
  const run = commandRunner(['ip', 'netns', 'exec', ns]);
  const before = natRules(ns);
  const chain = new MeshChain({ chain: chainName('edge-a'), listenInterface: 'mesh0', run });
  chain.create();
  chain.create(); // idempotent: still one jump each
  chain.apply([
    { service: 'default/web', dest: '9.251.0.7', port: 8080, protocol: 'tcp', toIP: '172.30.0.1', toPort: 41001 },
    { service: 'default/web', dest: '10.96.0.20', port: 8080, protocol: 'tcp', toIP: '172.30.0.1', toPort: 41001 },
    { service: 'default/dns', dest: '9.251.0.9', port: 53, protocol: 'udp', toIP: '172.30.0.1', toPort: 41002 },
  ]);
  const saved = natRules(ns);
  assert.match(saved, /^:KE-MESH-edge-a - \[0:0\]$/m);
  assert.equal(saved.match(/-A PREROUTING -i mesh0 -j KE-MESH-edge-a/g)?.length, 1);
  assert.equal(saved.match(/-A OUTPUT -j KE-MESH-edge-a/g)?.length, 1);
  assert.match(saved, /-A KE-MESH-edge-a -d 9\.251\.0\.7\/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.30\.0\.1:41001/);
  assert.match(saved, /-A KE-MESH-edge-a -d 9\.251\.0\.9\/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172\.30\.0\.1:41002/);

  // a second edge in the same namespace has a chain of its own
  const other = new MeshChain({ chain: chainName('edge-b'), listenInterface: 'mesh0', run });
  other.create();
  assert.deepEqual(ourChains(run).sort(), ['KE-MESH-edge-a', 'KE-MESH-edge-b']);

  chain.apply([{ service: 'default/web', dest: '9.251.0.7', port: 8080, protocol: 'tcp', toIP: '172.30.0.1', toPort: 41005 }]);
  const rewritten = natRules(ns);
  assert.doesNotMatch(rewritten, /41001|41002/);
  assert.match(rewritten, /--to-destination 172\.30\.0\.1:41005/);

  assert.deepEqual(chain.remove(), []);
  assert.deepEqual(removeChain(run, 'KE-MESH-edge-b'), []);
  assert.equal(natRules(ns), before);
});

test('a connection to a Service address reaches the listener it is DNATed to', { skip }, () => {
  const run = commandRunner(['ip', 'netns', 'exec', ns]);
  const chain = new MeshChain({ chain: chainName('edge-dnat'), listenInterface: 'mesh0', run });
  chain.create();
  chain.apply([{ service: 'default/web', dest: '9.251.0.7', port: 8080, protocol: 'tcp', toIP: '172.30.0.1', toPort: 41010 }]);
  try {
    // a listener and a client inside the namespace (the test process itself lives in the host's)
    const script = `
      const net = require('node:net');
      const srv = net.createServer((s) => s.end('reached listener\\n')).listen(41010, '172.30.0.1', () => {
        net.connect(8080, '9.251.0.7').on('data', (d) => { process.stdout.write(d); srv.close(); process.exit(0); })
          .on('error', (e) => { console.error(e.message); process.exit(1); });
      });`;
    assert.equal(inNs(ns, process.execPath, ['-e', script]).trim(), 'reached listener');
  } finally {
    chain.remove();
  }
});

test('without permission the error is one line that names the fix', () => {
  const run = commandRunner();
  const chain = new MeshChain({
    chain: 'KE-MESH-x',
    listenInterface: 'lo',
    run: (cmd, args, input) =>
      cmd === 'iptables-restore' ? { status: 4, stdout: '', stderr: 'iptables-restore: Permission denied (you must be root)\n' } : run(cmd, args, input),
  });
  assert.throws(
    () => chain.create(),
    (err: Error & { code?: string }) => err.code === 'KE_EDGEMESH_IPTABLES' && !err.message.includes('\n') && /--cap-add NET_ADMIN/.test(err.message),
  );
});
