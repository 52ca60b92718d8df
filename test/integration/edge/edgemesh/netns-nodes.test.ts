// Two EdgeMesh nodes, each its own process in its own network namespace with real iptables, a "pod" on edge-b
// at a pod IP that edge-a cannot route to. From edge-a, a connection to the Service's mesh IP (DNATed by edge-a's
// chain to its listener) reaches edge-b's pod: relayed through CloudStream's tunnel server (on the host) when the nodes
// cannot reach each other, and over the direct peer link when they can. Each node's rules go when it stops.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { certDerToPem, createCA, issueKeyPair, keyDerToPem } from '../../../../src/pki/x509.ts';
import { type TestRelay, startTestRelay } from '../../../helpers/mesh-relay.ts';
import { webService } from '../../../helpers/mesh-store.ts';
import { createNetns, deleteNetns, inNs, natRules, netnsAvailable, sh } from '../../../helpers/netns.ts';
import { skipUnless } from '../../../helpers/skip.ts';

const skip = skipUnless(netnsAvailable(), 'root with ip netns and iptables');
const NODE_SCRIPT = path.resolve(import.meta.dirname, '../../../helpers/mesh-node.ts');
const POD_IP = '10.88.2.10';
const MESH_IP = '9.251.0.7';

type Node = { proc: ChildProcessWithoutNullStreams; lines: AsyncIterator<string>; ready: string[]; ns: string };

let dir = '';
let relay: TestRelay | undefined;
const namespaces: string[] = [];
const hostLinks: string[] = [];
const suffix = Math.random().toString(16).slice(2, 6);

/** host <-> netns veth: host side .1, netns side .2 of 10.250.<n>.0/30; no default route in the netns. */
function linkToHost(ns: string, n: number): { host: string; inside: string; ifname: string } {
  const h = `kmh${n}${suffix}`;
  const i = `kmn${n}`;
  sh('ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', i, 'netns', ns]);
  hostLinks.push(h);
  sh('ip', ['addr', 'add', `10.250.${n}.1/30`, 'dev', h]);
  sh('ip', ['link', 'set', h, 'up']);
  inNs(ns, 'ip', ['addr', 'add', `10.250.${n}.2/30`, 'dev', i]);
  inNs(ns, 'ip', ['link', 'set', i, 'up']);
  // the mesh subnet needs a route for OUTPUT's DNAT to see the packet at all
  inNs(ns, 'ip', ['route', 'add', '9.251.0.0/16', 'dev', i]);
  return { host: `10.250.${n}.1`, inside: `10.250.${n}.2`, ifname: i };
}

async function startNode(cfg: Record<string, unknown>, ns: string): Promise<Node> {
  const file = path.join(dir, `${String(cfg['node'])}.json`);
  writeFileSync(file, JSON.stringify({ ...cfg, certDir: dir }));
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, NODE_SCRIPT, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done && first.value.startsWith('ready'), `node ${String(cfg['node'])} did not start: ${stderr}`);
  return { proc, lines, ready: first.value.split(' '), ns };
}

async function ask(n: Node, line: string): Promise<string> {
  n.proc.stdin.write(`${line}\n`);
  const r = await n.lines.next();
  return r.done ? 'closed' : r.value;
}

async function stopNode(n: Node): Promise<void> {
  const done = new Promise((r) => n.proc.once('exit', r));
  n.proc.stdin.end();
  await done;
}

before(async () => {
  if (skip !== false) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'ke-mesh-netns-'));
  const ca = await createCA('mesh-ca');
  writeFileSync(path.join(dir, 'ca.crt'), certDerToPem(ca.certDer));
  for (const n of ['edge-a', 'edge-b']) {
    const kp = await issueKeyPair(ca, { subject: `CN=system:node:${n}, O=system:nodes`, usages: ['clientAuth'], days: 1 });
    writeFileSync(path.join(dir, `${n}.crt`), certDerToPem(kp.certDer));
    writeFileSync(path.join(dir, `${n}.key`), keyDerToPem(kp.keyDer));
  }
  for (const p of ['ke-mesh-a', 'ke-mesh-b']) namespaces.push(createNetns(p));
  // edge-b's pod address, on its loopback: routable inside edge-b only
  inNs(namespaces[1] as string, 'ip', ['addr', 'add', `${POD_IP}/32`, 'dev', 'lo']);
  relay = await startTestRelay(ca, ['10.250.1.1', '10.250.2.1'], '0.0.0.0');
});

after(async () => {
  await relay?.close();
  for (const h of hostLinks) sh('ip', ['link', 'del', h]);
  for (const ns of namespaces) deleteNetns(ns);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function twoNodes(direct: boolean): Promise<{ a: Node; b: Node; before: string[] }> {
  const [nsA, nsB] = namespaces as [string, string];
  const before = [natRules(nsA), natRules(nsB)];
  const relayPort = relay?.url.split(':')[1] ?? '';
  const b = await startNode(
    {
      node: 'edge-b',
      listenInterface: 'kmn2',
      listenIP: '10.250.2.2',
      advertiseIP: direct ? '10.251.0.2' : '10.250.2.2',
      relay: `10.250.2.1:${relayPort}`,
      pod: { name: 'web-on-b', ip: POD_IP },
      peers: {},
      service: webService({ meshIP: MESH_IP }),
      endpoints: [],
    },
    nsB,
  );
  const podPort = Number(b.ready[2]);
  const endpoints = [{ ip: POD_IP, nodeName: 'edge-b', ready: true, ports: [{ name: 'http', port: podPort, protocol: 'TCP' }] }];
  assert.equal(await ask(b, `endpoints ${JSON.stringify(endpoints)}`), 'ok endpoints');
  const a = await startNode(
    {
      node: 'edge-a',
      listenInterface: 'kmn1',
      listenIP: '10.250.1.2',
      advertiseIP: '10.250.1.2',
      relay: `10.250.1.1:${relayPort}`,
      peers: { 'edge-b': { host: direct ? '10.251.0.2' : '10.250.2.2', port: Number(b.ready[1]) } },
      service: webService({ meshIP: MESH_IP }),
      endpoints,
    },
    nsA,
  );
  return { a, b, before };
}

test('pod networks that cannot route: edge-a reaches the pod on edge-b through the cloud relay', { skip }, async () => {
  const [nsA, nsB] = namespaces as [string, string];
  linkToHost(nsA, 1);
  linkToHost(nsB, 2);
  const { a, b, before } = await twoNodes(false);
  try {
    assert.match(natRules(nsA), new RegExp(`-A KE-MESH-edge-a -d ${MESH_IP.replace(/\./g, '\\.')}/32 -p tcp -m tcp --dport 8080 -j DNAT`));
    // edge-a cannot reach the pod (or edge-b) itself
    assert.match(await ask(a, `get ${POD_IP} 80`), /^err (ENETUNREACH|EHOSTUNREACH)/);
    const r = (await ask(a, `get ${MESH_IP} 8080`)).split(' ');
    assert.deepEqual(r.slice(0, 2), ['ok', 'web-on-b']);
    assert.equal(r[3], '1', 'relayed once');
    assert.equal(relay?.relayed, 1);
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
  assert.equal(natRules(nsA), before[0], 'edge-a left no rule or chain');
  assert.equal(natRules(nsB), before[1], 'edge-b left no rule or chain');
});

test('the same with the nodes reachable to each other: the direct peer link carries it', { skip }, async () => {
  const [nsA, nsB] = namespaces as [string, string];
  // a node-to-node link; the pod IP stays unroutable from edge-a
  inNs(nsA, 'ip', ['link', 'add', 'kmp', 'type', 'veth', 'peer', 'name', 'kmp', 'netns', nsB]);
  inNs(nsA, 'ip', ['addr', 'add', '10.251.0.1/30', 'dev', 'kmp']);
  inNs(nsA, 'ip', ['link', 'set', 'kmp', 'up']);
  inNs(nsB, 'ip', ['addr', 'add', '10.251.0.2/30', 'dev', 'kmp']);
  inNs(nsB, 'ip', ['link', 'set', 'kmp', 'up']);
  const relayedBefore = relay?.relayed ?? 0;
  const { a, b } = await twoNodes(true);
  try {
    assert.match(await ask(a, `get ${POD_IP} 80`), /^err (ENETUNREACH|EHOSTUNREACH)/);
    const r = (await ask(a, `get ${MESH_IP} 8080`)).split(' ');
    assert.deepEqual(r.slice(0, 3), ['ok', 'web-on-b', '1'], 'one direct connection');
    assert.equal(relay?.relayed, relayedBefore, 'nothing relayed');
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});
