import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export type Upstream = { host: string; port: number };

/**
 * The `nameserver` lines of a resolv.conf (the host's, `/etc/resolv.conf` by default), minus the addresses in
 * `exclude` (our own listener: forwarding to ourselves would loop). A missing or unreadable file gives none, and
 * the server answers SERVFAIL for names that are not ours.
 */
export function readResolvConf(file: string, exclude: ReadonlySet<string> = new Set()): Upstream[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m === null) continue;
    // Our extension for tests and odd hosts: `nameserver <ip>:<port>`, `nameserver [v6]:<port>`.
    const spec = m[1] ?? '';
    const hp = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(spec.includes('.') || spec.startsWith('[') ? spec : `[${spec}]`);
    const host = hp?.[1] ?? spec;
    const port = hp?.[2] === undefined ? 53 : Number(hp[2]);
    if (net.isIP(host) === 0 || exclude.has(host)) continue;
    out.push({ host, port });
  }
  return out;
}

/** Sends one raw query over UDP and waits for the reply with the same id; rejects on timeout. */
export function forwardUdp(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => done(new Error(`no answer from ${up.host}:${up.port} in ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | undefined, msg?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err !== undefined) reject(err);
      else resolve(msg as Buffer);
    };
    sock.on('error', (err) => done(err));
    sock.on('message', (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id) done(undefined, msg);
    });
    sock.send(query, up.port, up.host);
  });
}

/** The same over TCP (2-byte length prefix), for clients that asked over TCP or a truncated UDP reply. */
export function forwardTcp(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(up.port, up.host);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`no answer from ${up.host}:${up.port} in ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | undefined, msg?: Buffer) => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(msg as Buffer);
    };
    sock.on('error', (err) => done(err));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => done(new Error(`${up.host}:${up.port} closed before answering`)));
  });
}
