/**
 * Test clients for edged's kubelet API streaming routes: a WebSocket channel-protocol client (what kubectl 1.30+
 * speaks for exec/attach: v5.channel.k8s.io, falling back to v4) and a SPDY/3.1 one (what kube-apiserver >= 1.29
 * speaks toward kubelets), both as the real peers frame it.
 */
import { once } from 'node:events';
import net from 'node:net';
import WebSocket from 'ws';
import { SpdySession, type SpdyStream } from '../../src/stream/spdy/index.ts';

export type KubeStatus = { status: string; reason?: string; message?: string; details?: { causes?: Array<{ reason: string; message: string }> } };

export type ChannelClient = {
  protocol: string;
  /** Everything received per channel so far (the first message of each, if only a port prefix, included). */
  received: Map<number, Buffer>;
  send(channel: number, data: string | Buffer): void;
  /** v5: tells the server stdin is done. */
  closeStdin(): void;
  resize(width: number, height: number): void;
  /** Resolves once `text` shows on `channel`. */
  waitFor(channel: number, text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closes; with the error channel's Status (v4/v5) when it sent one. */
  closed: Promise<KubeStatus | undefined>;
  close(): void;
};

export async function openChannels(url: string, protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): Promise<ChannelClient> {
  const ws = new WebSocket(url, protocols);
  const received = new Map<number, Buffer>();
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer) => {
    const ch = data[0] ?? 0;
    received.set(ch, Buffer.concat([received.get(ch) ?? Buffer.alloc(0), data.subarray(1)]));
    for (const w of waiters) w();
  });
  const closed = new Promise<KubeStatus | undefined>((resolve) => {
    ws.on('close', () => {
      const err = received.get(3);
      let status: KubeStatus | undefined;
      try {
        status = err && err.length > 0 ? (JSON.parse(err.toString()) as KubeStatus) : undefined;
      } catch {
        status = { status: 'Failure', message: err?.toString() ?? '' };
      }
      for (const w of waiters) w();
      resolve(status);
    });
  });
  const opened = await Promise.race([
    once(ws, 'open').then(() => true),
    new Promise<Error>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(new Error(`HTTP ${res.statusCode}`)))),
    once(ws, 'error').then(([e]) => e as Error),
  ]);
  if (opened !== true) throw opened;
  return {
    protocol: ws.protocol,
    received,
    send: (channel, data) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)])),
    closeStdin: () => ws.send(Buffer.from([255, 0])),
    resize: (width, height) => ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: width, Height: height }))])),
    waitFor(channel, text, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const s = received.get(channel)?.toString() ?? '';
          if (typeof text === 'string' ? s.includes(text) : text.test(s)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(s);
          } else if (ws.readyState === ws.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`connection closed before ${String(text)} showed on channel ${channel}; got ${JSON.stringify(s)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `${String(text)} did not show on channel ${channel} within ${timeoutMs} ms; got ${JSON.stringify(received.get(channel)?.toString() ?? '')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => ws.close(),
  };
}

/** Runs one command through exec over WebSocket and returns its output and final Status. */
export async function wsExec(
  base: string,
  path: string,
  cmd: string[],
  stdin?: string,
): Promise<{ stdout: string; stderr: string; status: KubeStatus | undefined; protocol: string }> {
  const q = new URLSearchParams();
  for (const c of cmd) q.append('command', c);
  q.set('output', '1');
  q.set('error', '1');
  if (stdin !== undefined) q.set('input', '1');
  const c = await openChannels(`${base.replace(/^http/, 'ws')}${path}?${q}`);
  if (stdin !== undefined) {
    c.send(0, stdin);
    c.closeStdin();
  }
  const status = await c.closed;
  return { stdout: c.received.get(1)?.toString() ?? '', stderr: c.received.get(2)?.toString() ?? '', status, protocol: c.protocol };
}

/** The SPDY/3.1 upgrade as kube-apiserver sends it; resolves with the session and the negotiated protocol. */
export async function spdyConnect(port: number, path: string, protocols: string[]): Promise<{ session: SpdySession; protocol: string }> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${protocols.map((p) => `X-Stream-Protocol-Version: ${p}\r\n`).join('')}Content-Length: 0\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) continue;
    const head = buf.subarray(0, end).toString();
    if (!head.startsWith('HTTP/1.1 101')) {
      sock.destroy();
      throw new Error(`no upgrade: ${head.split('\r\n')[0]} ${buf.subarray(end + 4).toString()}`);
    }
    const protocol = /x-stream-protocol-version: *(\S+)/i.exec(head)?.[1] ?? '';
    sock.pause();
    const rest = buf.subarray(end + 4);
    if (rest.length > 0) sock.unshift(rest);
    const session = new SpdySession(sock, { server: false });
    sock.resume();
    return { session, protocol };
  }
}

export async function readStream(s: SpdyStream): Promise<string> {
  let text = '';
  for await (const c of s) text += (c as Buffer).toString();
  return text;
}
