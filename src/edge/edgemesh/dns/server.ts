import dgram from 'node:dgram';
import net from 'node:net';
import { decode, encode, type DecodedPacket, type Packet } from 'dns-packet';
import { KubeEdgeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import { RCODE, reply, resolve, type ServiceDirectory } from './answer.ts';
import { forwardTcp, forwardUdp, type Upstream } from './upstream.ts';

export type MeshDnsOptions = {
  /** The listenInterface's IPv4 address. */
  address: string;
  /** 53 in production; 0 (any free port) in tests. */
  port: number;
  clusterDomain: string;
  directory: ServiceDirectory;
  /** Re-read on every forwarded query that finds none, so a resolv.conf written after start is picked up. */
  upstreams: () => Upstream[];
  log: Logger;
  upstreamTimeoutMs?: number;
};

export type MeshDnsStats = { answered: number; forwarded: number; malformed: number; upstreamFailed: number; overloaded: number };

const MAX_UDP = 512;
/** Forwards in flight at once (each holds a socket): past it a query is answered SERVFAIL at once, not queued. */
const MAX_FORWARDS = 256;
const MAX_TCP_CONNECTIONS = 256;
const MAX_TCP_IDLE_MS = 10_000;

/**
 * EdgeMesh's DNS server, UDP and TCP on one address and port: the cluster's names from the store (so it answers
 * while the cloud is away), everything else forwarded to the host's resolvers. A packet that does not decode is
 * counted and dropped (UDP) or ends its connection (TCP); it never reaches the rest of edgecore.
 */
export class MeshDnsServer {
  readonly #o: MeshDnsOptions;
  readonly #stats: MeshDnsStats = { answered: 0, forwarded: 0, malformed: 0, upstreamFailed: 0, overloaded: 0 };
  #forwarding = 0;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  #port = 0;

  constructor(o: MeshDnsOptions) {
    this.#o = o;
  }

  get port(): number {
    return this.#port;
  }

  get stats(): MeshDnsStats {
    return { ...this.#stats };
  }

  async start(): Promise<void> {
    // Port 0: UDP picks a port, TCP takes the same one, which may be held by someone else; pick again then.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#listen();
        return;
      } catch (err) {
        const inUse = (err as { cause?: { code?: string } }).cause?.code === 'EADDRINUSE';
        if (this.#o.port !== 0 || !inUse || attempt >= 5) throw err;
      }
    }
  }

  async #listen(): Promise<void> {
    const { address } = this.#o;
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((ok, fail) => {
      udp.once('error', fail);
      udp.bind(this.#o.port, address, () => {
        udp.off('error', fail);
        ok();
      });
    }).catch((err: unknown) => {
      throw listenError(address, this.#o.port, 'udp', err);
    });
    this.#udp = udp;
    this.#port = udp.address().port;
    udp.on('error', (err) => this.#o.log.warn({ err }, 'dns udp socket error'));
    udp.on('message', (msg, rinfo) => void this.#onUdp(udp, msg, rinfo));
    const tcp = net.createServer((s) => this.#onTcp(s));
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
    await new Promise<void>((ok, fail) => {
      tcp.once('error', fail);
      tcp.listen(this.#port, address, () => {
        tcp.off('error', fail);
        ok();
      });
    }).catch((err: unknown) => {
      udp.close();
      throw listenError(address, this.#port, 'tcp', err);
    });
    this.#tcp = tcp;
    this.#o.log.info({ address, port: this.#port }, 'edgemesh dns listening');
  }

  async stop(): Promise<void> {
    this.#udp?.close();
    this.#udp = undefined;
    for (const c of this.#conns) c.destroy();
    const tcp = this.#tcp;
    this.#tcp = undefined;
    if (tcp !== undefined) await new Promise<void>((r) => tcp.close(() => r()));
  }

  async #onUdp(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const out = await this.#handle(msg, 'udp');
    if (out === undefined) return;
    try {
      udp.send(out, rinfo.port, rinfo.address);
    } catch {
      // socket closed by stop() meanwhile
    }
  }

  #onTcp(s: net.Socket): void {
    this.#conns.add(s);
    s.setTimeout(MAX_TCP_IDLE_MS, () => s.destroy());
    s.on('close', () => this.#conns.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.#handle(msg, 'tcp').then((out) => {
          if (out === undefined) {
            s.destroy();
            return;
          }
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          if (!s.destroyed) s.write(Buffer.concat([prefix, out]));
        });
      }
    });
  }

  /** One query → one reply (undefined: not a DNS query; dropped). */
  async #handle(msg: Buffer, via: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = decode(msg);
    } catch (err) {
      this.#stats.malformed++;
      this.#o.log.debug({ err, via, bytes: msg.length }, 'malformed dns query dropped');
      return undefined;
    }
    if (query.type !== 'query') {
      this.#stats.malformed++;
      return undefined;
    }
    const r = (() => {
      try {
        return resolve(query, this.#o.directory, this.#o.clusterDomain);
      } catch (err) {
        this.#o.log.warn({ err, q: query.questions?.[0]?.name }, 'dns answer failed');
        return { kind: 'answer' as const, packet: reply(query, RCODE.SERVFAIL, []) };
      }
    })();
    if (r.kind === 'answer') {
      this.#stats.answered++;
      return encodeFor(r.packet, query, via);
    }
    if (r.kind === 'chase') return encodeFor(await this.#chase(r.packet, r.target, query, via), query, via);
    if (this.#forwarding >= MAX_FORWARDS) {
      this.#stats.overloaded++;
      return encode(reply(query, RCODE.SERVFAIL, []));
    }
    this.#stats.forwarded++;
    this.#forwarding++;
    try {
      return await this.#forward(query, msg, via);
    } finally {
      this.#forwarding--;
    }
  }

  /** An ExternalName's CNAME followed by what upstream answers for its target (as a recursive resolver gives it). */
  async #chase(cname: Packet, target: string, query: DecodedPacket, via: 'udp' | 'tcp'): Promise<Packet> {
    this.#stats.answered++;
    const type = query.questions?.[0]?.type ?? 'A';
    const sub = encode({ type: 'query', id: (query.id ?? 0) ^ 0x5a5a, flags: 1 << 8, questions: [{ type, name: target, class: 'IN' }] });
    const raw = await this.#forward(decode(sub), sub, via);
    let upstream: DecodedPacket;
    try {
      upstream = decode(raw);
    } catch {
      return cname;
    }
    const rcode = upstream.flags === undefined ? 0 : upstream.flags & 0xf;
    return { ...cname, flags: ((cname.flags ?? 0) & ~0xf) | rcode, answers: [...(cname.answers ?? []), ...(upstream.answers ?? [])], authorities: [] };
  }

  async #forward(query: DecodedPacket, raw: Buffer, via: 'udp' | 'tcp'): Promise<Buffer> {
    const timeout = this.#o.upstreamTimeoutMs ?? 2000;
    for (const up of this.#o.upstreams()) {
      try {
        // A truncated UDP answer is passed on as is: the client retries over TCP, as with any resolver.
        return via === 'udp' ? await forwardUdp(up, raw, timeout) : await forwardTcp(up, raw, timeout);
      } catch (err) {
        this.#o.log.debug({ err, upstream: up }, 'upstream dns failed; trying the next');
      }
    }
    this.#stats.upstreamFailed++;
    return encode(reply(query, RCODE.SERVFAIL, []));
  }
}

/** UDP replies bigger than the client accepts (512, or its EDNS size) go out truncated, answers dropped. */
function encodeFor(p: Packet, query: DecodedPacket, via: 'udp' | 'tcp'): Buffer {
  const out = encode(p);
  if (via === 'tcp') return out;
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  const max = opt !== undefined && 'udpPayloadSize' in opt ? Math.max(MAX_UDP, opt.udpPayloadSize) : MAX_UDP;
  if (out.length <= max) return out;
  return encode({ ...p, flags: (p.flags ?? 0) | (1 << 9), answers: [], additionals: [] });
}

function listenError(address: string, port: number, proto: string, err: unknown): KubeEdgeError {
  const code = (err as { code?: string }).code;
  const why =
    code === 'EADDRINUSE'
      ? `port ${port}/${proto} on ${address} is taken by another program (find it with \`ss -lnup 'sport = :${port}'\`)`
      : code === 'EADDRNOTAVAIL'
        ? `${address} is not an address of this host`
        : String((err as Error).message ?? err);
  return new KubeEdgeError('KE_EDGEMESH_DNS_LISTEN', `edgemesh dns cannot listen on ${address}:${port}: ${why}`, { address, port, proto }, { cause: err });
}
