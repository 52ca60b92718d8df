import dgram from 'node:dgram';
import { decode, encode } from 'dns-packet';
import { logger } from '../../src/core/log.ts';
import { MeshDnsServer } from '../../src/edge/edgemesh/dns/server.ts';
import { MeshIpam } from '../../src/edge/edgemesh/ipam.ts';
import { MeshStore } from '../../src/edge/edgemesh/store.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { errorNote } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';

export type MeshDnsOptions = { services: number; clients: number; inFlight: number; warmupMs: number; windowMs: number };

/**
 * EdgeMesh DNS: the server on loopback (UDP) over a store of S Services (every tenth headless, with 3 pods), C
 * client sockets each keeping `inFlight` queries outstanding for random Service names (`<svc>.<ns>.svc.cluster.local`,
 * A). Figures: answered queries per second and the latency of each query (send to answer), over the window after
 * a warm-up. Single process: the clients share the event loop with the server, so the rate is a floor.
 */
export async function meshDnsBench(o: MeshDnsOptions, out: BenchOutcome): Promise<void> {
  out.params = { ...o, transport: 'UDP on 127.0.0.1', clientsInProcess: true };
  const errors = { timeouts: 0, wrongAnswer: 0 };
  out.errors = errors;
  const store = new MeshStore({ ipam: new MeshIpam('9.251.0.0/16'), nodeName: 'bench' });
  for (let i = 0; i < o.services; i++) {
    const headless = i % 10 === 0;
    store.apply('service', 'insert', {
      metadata: { namespace: `ns${i % 20}`, name: `svc-${i}`, uid: `u${i}` },
      spec: { clusterIP: headless ? 'None' : '10.96.0.1', ports: [{ name: 'http', port: 80 }] },
    });
    if (headless) {
      store.apply('endpointslice', 'insert', {
        metadata: { namespace: `ns${i % 20}`, name: `svc-${i}-x`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
        addressType: 'IPv4',
        endpoints: [1, 2, 3].map((k) => ({ addresses: [`172.17.${i % 250}.${k}`], conditions: { ready: true } })),
      });
    }
  }
  const server = new MeshDnsServer({
    address: '127.0.0.1',
    port: 0,
    clusterDomain: 'cluster.local',
    directory: store,
    upstreams: () => [],
    log: logger('bench-dns'),
  });
  await server.start();
  let counting = false;
  let answered = 0;
  const latency: number[] = [];
  let stop = false;
  const clients = await Promise.all(
    Array.from({ length: o.clients }, async () => {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const pending = new Map<number, { at: number; timer: NodeJS.Timeout }>();
      let nextId = 1;
      const sendOne = () => {
        if (stop) return;
        const i = Math.floor(Math.random() * o.services);
        const id = nextId++ & 0xffff;
        const q = encode({ type: 'query', id, flags: 1 << 8, questions: [{ type: 'A', name: `svc-${i}.ns${i % 20}.svc.cluster.local` }] });
        const timer = setTimeout(() => {
          pending.delete(id);
          if (counting) errors.timeouts++;
          sendOne();
        }, 2000);
        pending.set(id, { at: performance.now(), timer });
        sock.send(q, server.port, '127.0.0.1');
      };
      sock.on('message', (msg) => {
        const p = decode(msg);
        const e = pending.get(p.id ?? -1);
        if (e === undefined) return;
        pending.delete(p.id ?? -1);
        clearTimeout(e.timer);
        if (counting) {
          answered++;
          latency.push(performance.now() - e.at);
          if ((p.answers ?? []).length === 0) errors.wrongAnswer++;
        }
        sendOne();
      });
      return {
        start: () => {
          for (let k = 0; k < o.inFlight; k++) sendOne();
        },
        close: () => {
          for (const e of pending.values()) clearTimeout(e.timer);
          sock.close();
        },
      };
    }),
  );
  for (const c of clients) c.start();
  await new Promise((r) => setTimeout(r, o.warmupMs));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.windowMs));
  counting = false;
  const span = performance.now() - t0;
  stop = true;
  for (const c of clients) c.close();
  await server.stop();
  const lat = summarize(latency);
  const qps = rate(answered, span);
  out.figures = { queriesPerSec: qps, latencyMs: lat, answered };
  const note = errorNote(errors);
  out.rows.push(
    { metric: 'DNS queries answered/s', value: fmt(qps, 0), note: `${o.clients} clients x ${o.inFlight} in flight, ${o.services} services; ${note}` },
    { metric: 'DNS latency p50 / p99 (ms)', value: `${fmt(lat.p50, 2)} / ${fmt(lat.p99, 2)}`, note: `${lat.n} queries` },
  );
}
