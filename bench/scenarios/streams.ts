// Streams: 20 `logs -f`-like followers of a chatty source through one node's tunnel (CloudStream's tunnel server and
// EdgeStream over mutual TLS on loopback, the same code as the daemons), while small control requests share the
// tunnel. The kubelet is a fake one (an HTTP server on loopback that writes log lines as fast as it is read).
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { CloudStream } from '../../src/cloud/cloudstream/cloudstream.ts';
import { EdgeStream } from '../../src/edge/edgestream/edgestream.ts';
import { certDerToPem, createCA, issueKeyPair, keyDerToPem } from '../../src/pki/x509.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, percentile } from '../lib/stats.ts';

export type StreamsBenchOptions = { followers: number; windowMs: number; controlEveryMs: number };

const LINE = `${'x'.repeat(90)} log line\n`;

export async function streamsBench(o: StreamsBenchOptions, out: BenchOutcome): Promise<void> {
  out.params = { ...o, lineBytes: LINE.length, transport: 'tunnel over mTLS WebSocket on loopback; fake kubelet' };
  const log = pino({ level: 'silent' });
  const ca = await createCA();
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  const node = await issueKeyPair(ca, { subject: 'CN=system:node:bench-edge, O=system:nodes', usages: ['clientAuth'], days: 1 });
  const chunk = Buffer.from(LINE.repeat(64));
  const fakeKubelet = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') return res.end('ok');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let open = true;
    res.on('close', () => {
      open = false;
    });
    if (req.url?.includes('paced=true')) {
      // 1,000 lines/s: ten lines every 10 ms, as a chatty container's log
      const ten = LINE.repeat(10);
      const t = setInterval(() => (open ? res.write(ten) : clearInterval(t)), 10);
      return;
    }
    const pump = (): void => {
      while (open && res.write(chunk)) {
        /* until the tunnel pushes back */
      }
      if (open) res.once('drain', pump);
    };
    pump();
  });
  fakeKubelet.listen(0, '127.0.0.1');
  await once(fakeKubelet, 'listening');
  const cloud = new CloudStream({
    enabled: true,
    tunnel: { address: '127.0.0.1', port: 0, caPem: certDerToPem(ca.certDer), certPem: certDerToPem(server.certDer), keyPem: keyDerToPem(server.keyDer), ca },
    log,
  });
  await cloud.start({} as never);
  const edge = new EdgeStream({
    enable: true,
    server: `127.0.0.1:${cloud.tunnelAddress?.port}`,
    nodeName: 'bench-edge',
    kubeletPort: (fakeKubelet.address() as AddressInfo).port,
    handshakeTimeoutSec: 10,
    readDeadlineSec: 15,
    tls: async () => ({ caPem: certDerToPem(ca.certDer), certPem: certDerToPem(node.certDer), keyPem: keyDerToPem(node.keyDer) }),
    log,
  });
  await edge.start({} as never);
  const errors: Record<string, number> = { follower: 0, control: 0 };
  try {
    while (cloud.registry.get('bench-edge', 'kubelet') === undefined) await new Promise((r) => setTimeout(r, 20));
    const entry = cloud.registry.get('bench-edge', 'kubelet');
    if (entry === undefined) throw new Error('no tunnel');
    // A kubelet-API request over a fresh tunnel stream, as CloudStream's proxy does it.
    const get = (path: string, onBody: (n: number) => void): Promise<void> =>
      new Promise((resolve, reject) => {
        const s = entry.session.open({ kind: 'kubelet', node: 'bench-edge' });
        s.on('error', reject);
        const r = request({ path, headers: { connection: 'close' }, createConnection: () => s as unknown as import('node:net').Socket }, (res) => {
          res.on('data', (d: Buffer) => onBody(d.length));
          res.on('end', resolve);
          res.on('error', reject);
        });
        r.on('error', reject);
        r.end();
      });
    const phase = async (paced: boolean) => {
      const bytes: number[] = new Array(o.followers).fill(0);
      const followers: PassThrough[] = [];
      const t0 = performance.now();
      const running = Array.from({ length: o.followers }, (_, i) => {
        const s = entry.session.open({ kind: 'kubelet', node: 'bench-edge' });
        const sink = new PassThrough();
        followers.push(sink);
        s.on('error', () => undefined);
        return new Promise<void>((resolve) => {
          const r = request(
            { path: `/containerLogs/default/chatty/app?follow=true&paced=${paced}&i=${i}`, createConnection: () => s as unknown as import('node:net').Socket },
            (res) => {
              res.on('data', (d: Buffer) => {
                bytes[i] = (bytes[i] ?? 0) + d.length;
              });
              res.on('close', resolve);
              res.on('error', resolve);
            },
          );
          r.on('error', () => {
            errors['follower'] = (errors['follower'] ?? 0) + 1;
            resolve();
          });
          r.end();
          sink.on('close', () => {
            s.destroy();
            resolve();
          });
        });
      });
      const control: number[] = [];
      const end = t0 + o.windowMs;
      while (performance.now() < end) {
        const c0 = performance.now();
        try {
          await get('/healthz', () => undefined);
          control.push(performance.now() - c0);
        } catch {
          errors['control'] = (errors['control'] ?? 0) + 1;
        }
        await new Promise((r) => setTimeout(r, o.controlEveryMs));
      }
      const spanMs = performance.now() - t0;
      for (const f of followers) f.destroy();
      await Promise.all(running);
      const total = bytes.reduce((a, b) => a + b, 0);
      const perStream = bytes.map((b) => b / 1e6 / (spanMs / 1000));
      return {
        mbps: total / 1e6 / (spanMs / 1000),
        minStream: Math.min(...perStream),
        maxStream: Math.max(...perStream),
        p50: percentile(control, 50),
        p99: percentile(control, 99),
        n: control.length,
      };
    };
    const paced = await phase(true);
    const flat = await phase(false);
    out.errors = errors;
    out.figures = { paced, unpaced: flat };
    out.rows = [
      {
        metric: `control request p50, ${o.followers} x 1,000 lines/s`,
        value: `${fmt(paced.p50)} ms`,
        note: `${paced.n} requests on the same tunnel; logs ${fmt(paced.mbps, 2)} MB/s`,
      },
      { metric: `control request p99, ${o.followers} x 1,000 lines/s`, value: `${fmt(paced.p99)} ms` },
      {
        metric: `stream throughput, ${o.followers} unpaced`,
        value: `${fmt(flat.mbps)} MB/s`,
        note: `per stream ${fmt(flat.minStream, 2)}-${fmt(flat.maxStream, 2)} MB/s`,
      },
      { metric: 'control request p50 / p99, unpaced', value: `${fmt(flat.p50)} / ${fmt(flat.p99)} ms`, note: `${flat.n} requests` },
    ];
    out.notes = [
      'one process holds both tunnel ends and the fake kubelet: the latency includes that shared event loop; CloudHub traffic is on its own connection, not in this tunnel',
    ];
  } finally {
    await edge.stop();
    await cloud.stop();
    fakeKubelet.closeAllConnections();
    fakeKubelet.close();
  }
}
