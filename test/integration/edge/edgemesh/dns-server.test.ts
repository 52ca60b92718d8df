// EdgeMesh's DNS server on real UDP and TCP sockets (loopback, free ports): cluster names from the store, other
// names forwarded to the resolvers of a resolv.conf (here a second DNS server the test runs, standing in for the
// host's), SERVFAIL when no upstream answers, and garbage datagrams dropped without harm.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { decode, encode } from 'dns-packet';
import { logger } from '../../../../src/core/log.ts';
import { MeshDnsServer } from '../../../../src/edge/edgemesh/dns/server.ts';
import { readResolvConf } from '../../../../src/edge/edgemesh/dns/upstream.ts';
import { MeshIpam } from '../../../../src/edge/edgemesh/ipam.ts';
import { MeshStore } from '../../../../src/edge/edgemesh/store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-mesh-dns-srv-'));
const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** The "host's resolver": answers example.test over UDP and TCP with 192.0.2.7, everything else NXDOMAIN. */
async function startUpstream(): Promise<number> {
  const answer = (msg: Buffer): Buffer => {
    const q = decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    const hit = name === 'example.test';
    return encode({
      type: 'response',
      id: q.id ?? 0,
      flags: hit ? 0 : 3,
      questions: q.questions ?? [],
      answers: hit ? [{ type: 'A', name, ttl: 30, data: '192.0.2.7' }] : [],
    });
  };
  // UDP picks the port; TCP must get the same one (picked again if something else holds it).
  for (;;) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const tcp = await listenTcp(port, answer);
    if (tcp === undefined) {
      udp.close();
      continue;
    }
    udp.on('message', (m, rinfo) => udp.send(answer(m), rinfo.port, rinfo.address));
    closers.push(
      () => {
        udp.close();
      },
      () => new Promise<void>((r) => tcp.close(() => r())),
    );
    return port;
  }
}

function listenTcp(port: number, answer: (m: Buffer) => Buffer): Promise<net.Server | undefined> {
  const tcp = net.createServer((s) => {
    s.once('data', (d: Buffer) => {
      const out = answer(d.subarray(2, 2 + d.readUInt16BE(0)));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length);
      s.end(Buffer.concat([len, out]));
    });
  });
  return new Promise((resolve) => {
    tcp.once('error', () => resolve(undefined));
    tcp.listen(port, '127.0.0.1', () => resolve(tcp));
  });
}

async function startMesh(resolvConf: string): Promise<{ server: MeshDnsServer; store: MeshStore }> {
  const store = new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: 'edge-1' });
  store.apply('service', 'insert', { metadata: { namespace: 'default', name: 'web', uid: 'u' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] } });
  const server = new MeshDnsServer({
    address: '127.0.0.1',
    port: 0,
    clusterDomain: 'cluster.local',
    directory: store,
    upstreams: () => readResolvConf(resolvConf),
    log: logger('test-dns'),
    upstreamTimeoutMs: 1000,
  });
  await server.start();
  closers.push(() => server.stop());
  return { server, store };
}

test('cluster names from the store; other names through the upstream of resolv.conf, over UDP and TCP', async () => {
  const up = await startUpstream();
  const conf = path.join(dir, 'resolv.conf');
  writeFileSync(conf, `# test\nsearch example\nnameserver 127.0.0.1:${up}\n`);
  const { server, store } = await startMesh(conf);
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${server.port}`]);
  assert.deepEqual(await r.resolve4('web.default.svc.cluster.local'), [store.service('default', 'web')?.meshIP]);
  assert.deepEqual(await r.resolve4('example.test'), ['192.0.2.7']);
  // ExternalName: the CNAME and, chased upstream, its target's address.
  store.apply('service', 'insert', {
    metadata: { namespace: 'default', name: 'ext', uid: 'u2' },
    spec: { type: 'ExternalName', externalName: 'example.test' },
  });
  assert.deepEqual(await r.resolve4('ext.default.svc.cluster.local'), ['192.0.2.7']);
  assert.deepEqual(await r.resolveCname('ext.default.svc.cluster.local'), ['example.test']);
  await assert.rejects(r.resolve4('other.test'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolve4('gone.default.svc.cluster.local'), { code: 'ENOTFOUND' });

  // TCP, as a client does after a truncated answer.
  const viaTcp = await new Promise<Buffer>((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1');
    const q = encode({ type: 'query', id: 7, flags: 1 << 8, questions: [{ type: 'A', name: 'example.test' }] });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(buf.subarray(2));
      }
    });
    s.on('error', reject);
    s.write(Buffer.concat([len, q]));
  });
  const p = decode(viaTcp);
  assert.equal(p.id, 7);
  assert.deepEqual(
    (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined)),
    ['192.0.2.7'],
  );
  assert.equal(server.stats.malformed, 0);
});

test('garbage is counted and dropped; no upstream answering gives SERVFAIL; the server keeps answering', async () => {
  const conf = path.join(dir, 'empty-resolv.conf');
  writeFileSync(conf, '');
  const { server, store } = await startMesh(conf);
  const sock = dgram.createSocket('udp4');
  closers.push(() => {
    sock.close();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.send(Buffer.from('not a dns message at all'), server.port, '127.0.0.1');
  sock.send(Buffer.alloc(3), server.port, '127.0.0.1');
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${server.port}`]);
  await assert.rejects(r.resolve4('example.test'), { code: 'ESERVFAIL' });
  assert.deepEqual(await r.resolve4('web.default'), [store.service('default', 'web')?.meshIP]);
  assert.equal(server.stats.malformed, 2);
  assert.equal(server.stats.upstreamFailed, 1);
});

test('a taken DNS port is one error naming the address, the port and how to find the holder', async () => {
  const holder = dgram.createSocket('udp4');
  await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
  closers.push(() => {
    holder.close();
  });
  const server = new MeshDnsServer({
    address: '127.0.0.1',
    port: holder.address().port,
    clusterDomain: 'cluster.local',
    directory: new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: 'n' }),
    upstreams: () => [],
    log: logger('test-dns'),
  });
  await assert.rejects(server.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'KE_EDGEMESH_DNS_LISTEN');
    assert.match(err.message, /127\.0\.0\.1:\d+: port \d+\/udp on 127\.0\.0\.1 is taken by another program \(find it with `ss -lnup/);
    return true;
  });
});
