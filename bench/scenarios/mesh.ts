/**
 * EdgeMesh: HTTP requests through the proxy (one Service port listener, RoundRobin over two local backends) beside
 * the same requests straight to a backend, in one run so the ratio holds under the same load; and queries per second
 * answered by EdgeMesh's DNS from the store. All on loopback: the iptables DNAT hop (kernel) is not in the figures.
 * Each request is its own TCP connection, as `wget` from a pod makes it; a second pass uses keep-alive connections.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode, encode } from 'dns-packet';
import { logger } from '../../src/core/log.ts';
import { MeshDnsServer } from '../../src/edge/edgemesh/dns/server.ts';
import { MeshIpam } from '../../src/edge/edgemesh/ipam.ts';
import { makeDialer } from '../../src/edge/edgemesh/proxy/dial.ts';
import { MeshProxy } from '../../src/edge/edgemesh/proxy/proxy.ts';
import { MeshStore } from '../../src/edge/edgemesh/store.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { errorNote, type Row } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';

export type MeshBenchOptions = { seconds: number; concurrency: number; dnsInFlight: number };

const LO = '127.0.0.1';

async function backend(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => srv.listen(0, LO, r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

type Load = { lat: number[]; errors: number; spanMs: number };

/** `concurrency` loops issuing GETs for `ms`; latency of each, errors counted, added to `acc`. */
async function load(port: number, concurrency: number, ms: number, agent: http.Agent | false, acc: Load): Promise<void> {
  const lat = acc.lat;
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: LO, port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          lat.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  acc.errors += errors;
  acc.spanMs += performance.now() - start;
}

/** Direct and proxied in alternating half-second slices, so a change in the machine's load hits both alike. */
async function compare(directPort: number, proxyPort: number, o: MeshBenchOptions, agent: () => http.Agent | false): Promise<{ direct: Load; viaProxy: Load }> {
  const direct: Load = { lat: [], errors: 0, spanMs: 0 };
  const viaProxy: Load = { lat: [], errors: 0, spanMs: 0 };
  for (let i = 0; i < o.seconds * 2; i++) {
    for (const [port, acc] of [
      [directPort, direct],
      [proxyPort, viaProxy],
    ] as const) {
      const a = agent();
      await load(port, o.concurrency, 500, a, acc);
      if (a !== false) a.destroy();
    }
  }
  return { direct, viaProxy };
}

async function dnsLoad(port: number, o: MeshBenchOptions): Promise<{ answered: number; errors: number; spanMs: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, LO, r));
  let answered = 0;
  let errors = 0;
  let id = 0;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const pending = new Map<number, () => void>();
  sock.on('message', (m) => {
    const p = decode(m);
    if (p.answers?.[0]?.type === 'A') answered++;
    else errors++;
    pending.get(p.id ?? -1)?.();
  });
  await Promise.all(
    Array.from({ length: o.dnsInFlight }, async () => {
      while (performance.now() < end) {
        const qid = (id = (id + 1) & 0xffff);
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            errors++;
            pending.delete(qid);
            resolve();
          }, 1000);
          pending.set(qid, () => {
            clearTimeout(t);
            pending.delete(qid);
            resolve();
          });
          sock.send(encode({ type: 'query', id: qid, flags: 256, questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] }), port, LO);
        });
      }
    }),
  );
  sock.close();
  return { answered, errors, spanMs: performance.now() - start };
}

export async function meshBench(o: MeshBenchOptions, out: BenchOutcome): Promise<void> {
  out.params = { ...o, backends: 2, response: 'a few bytes', lbStrategy: 'RoundRobin' };
  const log = logger('bench-mesh');
  const backends = [await backend('web-1'), await backend('web-2')];
  const store = new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: 'bench-edge' });
  store.apply('service', 'insert', {
    metadata: { namespace: 'default', name: 'web', uid: 'u1', resourceVersion: '1' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  });
  // one slice per backend port (the two backends listen on different loopback ports)
  for (const [i, b] of backends.entries())
    store.apply('endpointslice', 'insert', {
      metadata: { namespace: 'default', name: `web-${i}`, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: b.port, protocol: 'TCP' }],
      endpoints: [{ addresses: [LO], conditions: { ready: true }, nodeName: 'bench-edge' }],
    });
  const proxy = new MeshProxy({ store, listenIP: LO, lbStrategy: 'RoundRobin', nodeName: 'bench-edge', dial: makeDialer('bench-edge'), log });
  await proxy.start();
  const dns = new MeshDnsServer({ address: LO, port: 0, clusterDomain: 'cluster.local', directory: store, upstreams: () => [], log });
  await dns.start();
  try {
    const listener = proxy.listener('default', 'web', 8080);
    if (listener === undefined) throw new Error('no listener for default/web:8080');
    const rows: Row[] = [];
    const errors: Record<string, number> = {};
    for (const mode of ['new connection per request', 'keep-alive'] as const) {
      const agent = () => (mode === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: o.concurrency }) : false);
      const { direct, viaProxy } = await compare(backends[0]?.port ?? 0, listener.port, o, agent);
      const d = summarize(direct.lat);
      const p = summarize(viaProxy.lat);
      const dRate = rate(direct.lat.length, direct.spanMs);
      const pRate = rate(viaProxy.lat.length, viaProxy.spanMs);
      const key = mode === 'keep-alive' ? 'keepAlive' : 'perRequest';
      errors[`${key}Direct`] = direct.errors;
      errors[`${key}Proxy`] = viaProxy.errors;
      out.figures[key] = { directRps: dRate, proxyRps: pRate, ratio: pRate / dRate, directP99Ms: d.p99, proxyP99Ms: p.p99 };
      const note = errorNote({ direct: direct.errors, proxy: viaProxy.errors });
      rows.push({ metric: `HTTP req/s, ${mode}: proxy / direct`, value: `${fmt(pRate, 0)} / ${fmt(dRate, 0)} (${fmt((pRate / dRate) * 100, 0)} %)`, note });
      rows.push({ metric: `HTTP p99 ms, ${mode}: proxy / direct`, value: `${fmt(p.p99, 2)} / ${fmt(d.p99, 2)}`, note: `concurrency ${o.concurrency}` });
    }
    const q = await dnsLoad(dns.port, o);
    errors['dns'] = q.errors;
    out.figures['dnsQps'] = rate(q.answered, q.spanMs);
    rows.push({
      metric: 'DNS queries/s (A, from the store)',
      value: fmt(rate(q.answered, q.spanMs), 0),
      note: `${o.dnsInFlight} in flight; ${errorNote({ dns: q.errors })}`,
    });
    out.errors = errors;
    out.rows = rows;
  } finally {
    await dns.stop();
    await proxy.stop();
    for (const b of backends) await b.close();
  }
}
