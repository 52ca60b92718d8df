/**
 * One UDP socket for one UDP Service port (DNS-like services). Each client address gets its own upstream socket
 * to one backend, kept while datagrams flow (idle timeout), so answers go back to the client that asked. UDP has
 * no connect failure to learn from; an ICMP port-unreachable (ECONNREFUSED on the connected socket) marks the
 * backend failed and the client's next datagram picks another. Backends on other nodes are not reached over UDP
 * (the peer link and the relay carry streams); only backends this host can route to are used.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../../../core/log.ts';
import type { Balancer } from './balancer.ts';
import type { Backend } from './types.ts';

export const UDP_IDLE_MS = 30_000;

type Flow = { sock: dgram.Socket; backend: Backend; timer: NodeJS.Timeout; queue: Buffer[] | undefined };

export class UdpServicePort {
  readonly key: string;
  readonly balancer: Balancer;
  #sock: dgram.Socket;
  #backends: Backend[] = [];
  #flows = new Map<string, Flow>();
  #localNode: string;
  #log: Logger | undefined;

  constructor(key: string, balancer: Balancer, localNode: string, family: 4 | 6, log?: Logger) {
    this.key = key;
    this.balancer = balancer;
    this.#localNode = localNode;
    this.#log = log;
    this.#sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    this.#sock.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#sock.on('error', (err) => this.#log?.warn({ err, port: key }, 'UDP service port error'));
  }

  listen(host: string, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#sock.once('error', reject);
      this.#sock.bind({ address: host, port }, () => {
        this.#sock.off('error', reject);
        resolve(this.#sock.address().port);
      });
    });
  }

  get port(): number {
    try {
      return this.#sock.address().port;
    } catch {
      return 0;
    }
  }

  setBackends(b: Backend[]): void {
    this.#backends = b.filter((x) => x.nodeName === undefined || x.nodeName === '' || x.nodeName === this.#localNode);
    const keys = new Set(this.#backends.map((x) => x.key));
    this.balancer.retain(keys);
    for (const [client, f] of this.#flows) if (!keys.has(f.backend.key)) this.#drop(client);
  }

  get backends(): readonly Backend[] {
    return this.#backends;
  }

  async close(): Promise<void> {
    for (const c of [...this.#flows.keys()]) this.#drop(c);
    await new Promise<void>((resolve) => this.#sock.close(() => resolve()));
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const client = `${rinfo.address}|${rinfo.port}`;
    let f = this.#flows.get(client);
    if (f === undefined) {
      const b = this.balancer.order(this.#backends, rinfo.address)[0];
      if (b === undefined) return; // no endpoint: dropped, as a UDP Service without endpoints
      f = this.#open(client, b, rinfo);
    }
    f.timer.refresh();
    if (f.queue !== undefined) f.queue.push(msg);
    else f.sock.send(msg);
  }

  #open(client: string, b: Backend, rinfo: dgram.RemoteInfo): Flow {
    const sock = dgram.createSocket(net.isIPv6(b.ip) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => this.#drop(client), UDP_IDLE_MS);
    timer.unref();
    const f: Flow = { sock, backend: b, timer, queue: [] };
    this.#flows.set(client, f);
    sock.on('message', (reply) => {
      timer.refresh();
      this.balancer.succeeded(b, rinfo.address);
      this.#sock.send(reply, rinfo.port, rinfo.address);
    });
    sock.on('error', (err) => {
      this.balancer.failed(b);
      this.#log?.debug({ err, port: this.key, backend: b.key }, 'UDP backend failed');
      this.#drop(client);
    });
    // Datagrams that arrive before the connect settles wait for it.
    sock.connect(b.port, b.ip, () => {
      const q = f.queue ?? [];
      f.queue = undefined;
      for (const m of q) sock.send(m);
    });
    return f;
  }

  #drop(client: string): void {
    const f = this.#flows.get(client);
    if (f === undefined) return;
    this.#flows.delete(client);
    clearTimeout(f.timer);
    try {
      f.sock.close();
    } catch {
      // already closed
    }
  }
}
