/**
 * One TCP listener for one Service port. Node cannot read a DNAT'ed connection's original destination
 * (no SO_ORIGINAL_DST), so the destination is implied by the listener itself: iptables DNATs each
 * `meshIP:port` and `clusterIP:port` to the listener of that Service port. A connection tries the backends in the
 * balancer's order; with none (or none answering) the client's socket is reset at once, which it sees as a refused
 * connection, as with a Service without endpoints under kube-proxy.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../core/log.ts';
import type { Balancer } from './balancer.ts';
import type { Dialer } from './dial.ts';
import type { Backend } from './types.ts';

export type ListenerStats = { accepted: number; refused: number; dialFailures: number };

export class TcpServicePort {
  readonly key: string;
  readonly balancer: Balancer;
  readonly stats: ListenerStats = { accepted: 0, refused: 0, dialFailures: 0 };
  #server: net.Server;
  #backends: Backend[] = [];
  #dial: Dialer;
  #log: Logger | undefined;
  #open = new Set<Duplex>();

  constructor(key: string, balancer: Balancer, dial: Dialer, log?: Logger) {
    this.key = key;
    this.balancer = balancer;
    this.#dial = dial;
    this.#log = log;
    this.#server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (s) => void this.#accept(s));
    this.#server.on('error', (err) => this.#log?.warn({ err, port: key }, 'service port listener error'));
  }

  listen(host: string, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as net.AddressInfo).port);
      });
    });
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  setBackends(b: Backend[]): void {
    this.#backends = b;
    this.balancer.retain(new Set(b.map((x) => x.key)));
  }

  get backends(): readonly Backend[] {
    return this.#backends;
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #accept(client: net.Socket): Promise<void> {
    this.#open.add(client);
    client.once('close', () => this.#open.delete(client));
    client.on('error', () => {});
    const clientIP = client.remoteAddress;
    for (const b of this.balancer.order(this.#backends, clientIP)) {
      if (client.destroyed) return;
      let up: Duplex;
      try {
        up = await this.#dial(b);
      } catch (err) {
        this.stats.dialFailures++;
        this.balancer.failed(b);
        this.#log?.debug({ err, port: this.key, backend: b.key }, 'backend did not accept; trying the next');
        continue;
      }
      this.balancer.succeeded(b, clientIP);
      this.stats.accepted++;
      this.#splice(client, up);
      return;
    }
    this.stats.refused++;
    client.resetAndDestroy();
  }

  #splice(client: net.Socket, up: Duplex): void {
    this.#open.add(up);
    up.once('close', () => this.#open.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    client.pipe(up);
    up.pipe(client);
    // Ends travel through the pipes (half-close kept, as an HTTP client that shuts its side still wants the
    // answer); a side that closes without its end having been passed on takes the other down with it.
    client.once('close', () => up.destroy());
    up.once('close', () => client.end());
    client.resume();
  }
}
