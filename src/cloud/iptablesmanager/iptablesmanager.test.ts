import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Bus } from '../../core/bus.ts';
import { newMessage } from '../../core/message.ts';
import { IptablesManager, TUNNEL_RESOURCE, type NodeAddress } from './iptablesmanager.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-iptmgr-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

/**
 * A fake iptables (the real one needs NET_ADMIN and would touch the host; test/streams-iptables.test.ts runs the
 * real one in a network namespace): records each call; `-C` and deleting a jump answer "not there".
 */
function fakeIptables(): { bin: string; calls: () => string[] } {
  const bin = path.join(dir, 'iptables');
  const record = path.join(dir, 'calls');
  writeFileSync(record, '');
  writeFileSync(
    bin,
    `#!/bin/sh
echo "$*" >> ${record}
case "$*" in
  *" -C "*) exit 1 ;;
  *" -D PREROUTING -j "*|*" -D OUTPUT -j "*) exit 1 ;;
esac
exit 0
`,
  );
  chmodSync(bin, 0o755);
  return {
    bin,
    calls: () =>
      readFileSync(record, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

const tunnel = (bus: Bus, operation: 'connect' | 'delete', node: string, internalIP?: string) =>
  bus.send('iptablesManager', newMessage({ source: 'cloudStream', group: 'cloudStream', operation, resource: TUNNEL_RESOURCE, content: { node, internalIP } }));

async function settle(m: IptablesManager, want: Record<string, string>): Promise<void> {
  for (let i = 0; i < 200 && JSON.stringify(m.rules()) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(m.rules(), want);
}

test('iptablesManager (fake iptables): a DNAT per connected node from its Node address, removed with the tunnel, the chain removed at stop', async () => {
  const fake = fakeIptables();
  const nodes = new Map<string, NodeAddress>([['edge-a', { ip: '10.0.0.7', kubeletPort: 10351 }]]);
  const bus = new Bus(log);
  const m = new IptablesManager({
    enabled: true,
    mode: 'internal',
    stream: () => ({ ip: '192.0.2.1', port: 10003 }),
    lookup: async (n) => nodes.get(n) ?? { ip: undefined, kubeletPort: undefined },
    defaultKubeletPort: 10350,
    resyncMs: 60_000,
    iptablesBin: fake.bin,
    log,
  });
  await m.start({ bus, log, signal: new AbortController().signal });
  assert.deepEqual(fake.calls().slice(0, 2), ['-w -t nat -N KE-STREAM', '-w -t nat -C PREROUTING -j KE-STREAM']);
  assert.ok(fake.calls().includes('-w -t nat -I OUTPUT 1 -j KE-STREAM'));

  tunnel(bus, 'connect', 'edge-a', '10.9.9.9');
  tunnel(bus, 'connect', 'edge-b', '10.0.0.8'); // no Node yet: the tunnel's SessionInternalIP, the default port
  await settle(m, { 'edge-a': '10.0.0.7:10351', 'edge-b': '10.0.0.8:10350' });
  assert.ok(
    fake
      .calls()
      .includes(
        '-w -t nat -A KE-STREAM -d 10.0.0.7/32 -p tcp --dport 10351 -m comment --comment kubeedge-ts kubelet edge-a -j DNAT --to-destination 192.0.2.1:10003',
      ),
  );

  tunnel(bus, 'delete', 'edge-a');
  await settle(m, { 'edge-b': '10.0.0.8:10350' });
  assert.ok(fake.calls().some((c) => c.startsWith('-w -t nat -D KE-STREAM -d 10.0.0.7/32 -p tcp --dport 10351 ')));

  await m.stop();
  assert.deepEqual(m.rules(), {});
  assert.deepEqual(fake.calls().slice(-4), [
    '-w -t nat -D PREROUTING -j KE-STREAM',
    '-w -t nat -D OUTPUT -j KE-STREAM',
    '-w -t nat -F KE-STREAM',
    '-w -t nat -X KE-STREAM',
  ]);
});

test('iptablesManager mode external programs nothing', async () => {
  const fake = fakeIptables();
  const bus = new Bus(log);
  const m = new IptablesManager({
    enabled: true,
    mode: 'external',
    stream: () => ({ ip: '192.0.2.1', port: 10003 }),
    lookup: async () => ({ ip: '10.0.0.7', kubeletPort: 10350 }),
    defaultKubeletPort: 10350,
    iptablesBin: fake.bin,
    log,
  });
  await m.start({ bus, log, signal: new AbortController().signal });
  assert.equal(bus.has('iptablesManager'), false);
  await m.stop();
  assert.deepEqual(fake.calls(), []);
});
