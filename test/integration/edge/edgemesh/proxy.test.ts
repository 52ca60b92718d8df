// EdgeMesh's proxy on loopback with real sockets: one listener per Service port, RoundRobin across two HTTP
// backends that answer their names, a Service without endpoints refusing at once, a dead backend skipped, ClientIP
// affinity, and UDP. The store is a hand-filled stand-in (the proxy reads only its services and endpoints).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { makeDialer } from '../../../../src/edge/edgemesh/proxy/dial.ts';
import { MeshProxy } from '../../../../src/edge/edgemesh/proxy/proxy.ts';
import { HandStore, endpoint, get, nameServer, webService } from '../../../helpers/mesh-store.ts';

const LO = '127.0.0.1';
let store: HandStore;
let proxy: MeshProxy;
const servers: { port: number; close(): Promise<void> }[] = [];

before(async () => {
  store = new HandStore();
  proxy = new MeshProxy({ store, listenIP: LO, lbStrategy: 'RoundRobin', nodeName: 'edge-a', dial: makeDialer('edge-a') });
  await proxy.start();
  for (const n of ['web-1', 'web-2']) servers.push(await nameServer(n));
});

after(async () => {
  await proxy.stop();
  for (const s of servers) await s.close();
});

function listenerPort(name = 'web', port = 8080, protocol: 'TCP' | 'UDP' = 'TCP'): number {
  const l = proxy.listener('default', name, port, protocol);
  assert.ok(l, `listener for ${name}:${port}/${protocol}`);
  return l.port;
}

function settle(): Promise<void> {
  return proxy.settled();
}

test('a Service port gets a listener and a DNAT rule for its mesh and cluster IPs; RoundRobin alternates', async () => {
  store.set(webService({ meshIP: '9.251.0.7', clusterIP: '10.96.0.20' }), [endpoint(LO, servers[0]!.port), endpoint(LO, servers[1]!.port)]);
  await settle();
  const port = listenerPort();
  assert.deepEqual(
    proxy.rules().map((r) => `${r.dest}:${r.port}/${r.protocol}->${r.toIP}:${r.toPort}`),
    [`9.251.0.7:8080/tcp->${LO}:${port}`, `10.96.0.20:8080/tcp->${LO}:${port}`],
  );
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await get(LO, port));
  assert.equal(new Set(answers).size, 2, `both pods answer: ${answers.join(',')}`);
  assert.notEqual(answers[0], answers[1]);
  assert.equal(answers[0], answers[2]);
});

test('scaled to zero the listener stays and resets connections; scaled back it serves again', async () => {
  const port = listenerPort();
  store.setEndpoints('default', 'web', []);
  await settle();
  await assert.rejects(get(LO, port), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
  store.setEndpoints('default', 'web', [endpoint(LO, servers[0]!.port)]);
  await settle();
  assert.equal(await get(LO, port), 'web-1');
});

test('a backend that refuses is skipped: every request is answered by the live one', async () => {
  const dead = await nameServer('gone');
  await dead.close();
  store.setEndpoints('default', 'web', [endpoint(LO, dead.port), endpoint(LO, servers[1]!.port)]);
  await settle();
  const port = listenerPort();
  for (let i = 0; i < 4; i++) assert.equal(await get(LO, port), 'web-2');
  const l = proxy.listener('default', 'web', 8080);
  assert.ok(l !== undefined && 'stats' in l && l.stats.dialFailures >= 1, 'the refusal was noticed');
});

test('sessionAffinity ClientIP keeps one client on one pod', async () => {
  store.set(webService({ meshIP: '9.251.0.7', sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 }), [
    endpoint(LO, servers[0]!.port),
    endpoint(LO, servers[1]!.port),
  ]);
  await settle();
  const port = listenerPort();
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await get(LO, port));
  assert.equal(answers.size, 1, `one pod only: ${[...answers].join(',')}`);
});

test('a removed Service loses its listener and rules; a headless one never gets any', async () => {
  store.set(webService({ name: 'db', headless: true, ports: [{ port: 5432, protocol: 'TCP' }] }), [endpoint(LO, 5432)]);
  await settle();
  assert.equal(proxy.listener('default', 'db', 5432), undefined);
  assert.ok(!proxy.rules().some((r) => r.service === 'default/db'));
});

test('a UDP Service port forwards datagrams and the answer comes back to the sender', async () => {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, LO, r));
  const ePort = (echo.address() as AddressInfo).port;
  store.set(webService({ name: 'dns', meshIP: '9.251.0.9', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }), [
    { ip: LO, ready: true, ports: [{ name: 'dns', port: ePort, protocol: 'UDP' }] },
  ]);
  await settle();
  const port = listenerPort('dns', 53, 'UDP');
  assert.ok(proxy.rules().some((r) => r.service === 'default/dns' && r.protocol === 'udp' && r.toPort === port));
  const c = dgram.createSocket('udp4');
  const got = new Promise<string>((r) => c.once('message', (m) => r(m.toString())));
  c.send('hello', port, LO);
  assert.equal(await got, 'echo:hello');
  c.close();
  echo.close();
});
