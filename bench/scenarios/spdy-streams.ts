import { once } from 'node:events';
import net from 'node:net';
import { SpdySession, type SpdyStream } from '../../src/stream/spdy/index.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, summarize } from '../lib/stats.ts';

export type SpdyStreamsBenchOptions = { streams: number; bytesPerStream: number; pingEveryMs: number };

/**
 * The kubelet API's SPDY hop (what kube-apiserver speaks to edged for exec/attach/port-forward) under a log-like
 * load: one SPDY/3.1 session on loopback, `streams` streams each sent `bytesPerStream` of 100-byte lines by the
 * server side, while a small echo stream on the same session is timed round trip every `pingEveryMs` (a control
 * message behind the bulk data). Reports the session's throughput and the echo latency during it.
 */
export async function spdyStreamsBench(o: SpdyStreamsBenchOptions, out: BenchOutcome): Promise<void> {
  out.params = { ...o };
  out.errors = { streamErrors: 0, shortStreams: 0 };
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, 'connection');
  const raw = net.connect(port, '127.0.0.1');
  const [sock] = (await accepted) as [net.Socket];
  const server = new SpdySession(sock, { server: true, maxStreams: o.streams + 10 });
  const client = new SpdySession(raw, { server: false });
  const line = Buffer.from(`${'x'.repeat(99)}\n`);
  const chunk = Buffer.concat(Array.from({ length: 160 }, () => line));
  server.on('stream', (s: SpdyStream) => {
    s.reply();
    s.on('error', () => {
      out.errors['streamErrors'] = (out.errors['streamErrors'] ?? 0) + 1;
    });
    if (s.headers['streamtype'] === 'echo') {
      s.pipe(s);
      return;
    }
    void (async () => {
      for (let sent = 0; sent < o.bytesPerStream; sent += chunk.length) {
        if (!s.write(chunk)) await once(s, 'drain');
      }
      s.end();
    })();
  });
  try {
    const echo = await client.openStream({ streamtype: 'echo' });
    const rtts: number[] = [];
    let bulkDone = false;
    const pinger = (async () => {
      const reader = echo[Symbol.asyncIterator]();
      while (!bulkDone) {
        const t0 = performance.now();
        echo.write('ping');
        await reader.next();
        rtts.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, o.pingEveryMs));
      }
    })();
    const t0 = performance.now();
    const sizes = await Promise.all(
      Array.from({ length: o.streams }, async () => {
        const s = await client.openStream({ streamtype: 'stdout' }, { fin: true });
        let n = 0;
        for await (const c of s) n += (c as Buffer).length;
        return n;
      }),
    );
    const ms = performance.now() - t0;
    bulkDone = true;
    await pinger;
    const total = sizes.reduce((a, b) => a + b, 0);
    out.errors['shortStreams'] = sizes.filter((n) => n < o.bytesPerStream).length;
    const mbps = total / 1e6 / (ms / 1000);
    const lat = summarize(rtts);
    out.figures = { totalBytes: total, ms, mbPerSecond: mbps, echoRtt: lat };
    out.rows.push(
      { metric: `throughput, ${o.streams} streams on one session`, value: `${fmt(mbps)} MB/s`, note: `${fmt(total / 1e6)} MB in ${fmt(ms / 1000, 2)} s` },
      { metric: 'echo round trip during it, p50 / p99', value: `${fmt(lat.p50, 2)} / ${fmt(lat.p99, 2)} ms`, note: `${lat.n} samples` },
    );
  } finally {
    client.destroy();
    server.destroy();
    srv.close();
  }
}
