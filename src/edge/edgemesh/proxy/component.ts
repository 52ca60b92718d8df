/**
 * The proxy half of EdgeMesh, as one component the module starts and stops: the Service-port listeners, the nat
 * chain that leads Service addresses to them, the direct peer link for other nodes and the cloud relay on the
 * mesh tunnel. Start order makes a half-started component visible at once (the chain exists only once the
 * listeners do); stop removes the chain first so no connection is DNATed to a closed port.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../core/log.ts';
import { MeshChain, chainName } from '../iptables/chain.ts';
import { type IptablesRunner, commandRunner } from '../iptables/run.ts';
import { PeerDialer, type MeshTunnel, type PeerAddresses } from '../peer/client.ts';
import { relayHandler, type RelayHeader } from '../peer/relay.ts';
import { PeerServer, type PeerCredentials } from '../peer/server.ts';
import { makeDialer } from './dial.ts';
import { MeshProxy } from './proxy.ts';
import type { LbStrategy, ProxyStore } from './types.ts';

/** A mesh tunnel session as contract C3's TunnelSession offers it. */
export type MeshTunnelSession = MeshTunnel & {
  on(event: 'stream', fn: (header: RelayHeader, stream: Duplex) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  close(): void;
};

export type ProxyComponentOptions = {
  store: ProxyStore;
  nodeName: string;
  lbStrategy: LbStrategy;
  listenInterface: string;
  /** The listen interface's address: listeners and DNAT targets. */
  listenIP: string;
  /** Peer port (modules.edgeMesh.listenPort); 0 = an ephemeral one (tests). */
  listenPort: number;
  /** Where the peer server binds (default all addresses). */
  peerBind?: string;
  /** This node's address other nodes can dial (its InternalIP); told to them on the `OK` line. */
  advertiseIP?: string;
  /** The edge's CA, certificate and key (edgeHub's files); undefined until the edge has them. */
  creds: () => PeerCredentials | undefined;
  addresses: PeerAddresses;
  /** Opens the mesh tunnel to CloudStream (dialTunnel with purpose 'mesh'); absent = no relay. */
  dialTunnel?: () => Promise<MeshTunnelSession>;
  /** Commands for iptables; `false` = no rules (a test that dials the listeners itself). */
  iptables?: IptablesRunner | false;
  log?: Logger;
};

const TUNNEL_RETRY_MS = 2000;

export class ProxyComponent {
  readonly proxy: MeshProxy;
  readonly peers: PeerDialer;
  readonly relayStats = { served: 0, refused: 0, malformed: 0 };
  #server: PeerServer | undefined;
  #o: ProxyComponentOptions;
  #chain: MeshChain | undefined;
  #tunnel: MeshTunnelSession | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #peerPort = 0;

  constructor(o: ProxyComponentOptions) {
    this.#o = o;
    this.peers = new PeerDialer({ nodeName: o.nodeName, creds: o.creds, addresses: o.addresses, tunnel: () => this.#tunnel, ...(o.log ? { log: o.log } : {}) });
    this.proxy = new MeshProxy({
      store: o.store,
      listenIP: o.listenIP,
      lbStrategy: o.lbStrategy,
      nodeName: o.nodeName,
      dial: makeDialer(o.nodeName, this.peers),
      ...(o.log ? { log: o.log } : {}),
    });
    if (o.iptables !== false)
      this.#chain = new MeshChain({
        chain: chainName(o.nodeName),
        listenInterface: o.listenInterface,
        run: o.iptables ?? commandRunner(),
        ...(o.log ? { log: o.log } : {}),
      });
  }

  get peerPort(): number {
    return this.#peerPort;
  }

  get server(): PeerServer | undefined {
    return this.#server;
  }

  get tunnelConnected(): boolean {
    return this.#tunnel !== undefined;
  }

  async start(): Promise<void> {
    await this.#startServer();
    await this.proxy.start();
    if (this.#chain !== undefined) {
      const chain = this.#chain;
      chain.create();
      chain.apply(this.proxy.rules());
      this.proxy.on('rules', (rules) => {
        try {
          chain.apply(rules);
        } catch (err) {
          this.#o.log?.error({ err }, 'EdgeMesh rules could not be written');
        }
      });
    }
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    if (this.#chain !== undefined) for (const p of this.#chain.remove()) this.#o.log?.warn({ problem: p }, 'EdgeMesh chain not fully removed');
    this.#tunnel?.close();
    this.#tunnel = undefined;
    await this.proxy.stop();
    await this.#server?.close();
  }

  #advertise(): string {
    const ip = this.#o.advertiseIP;
    if (ip === undefined || ip === '' || this.#server === undefined) return '';
    return ip.includes(':') ? `[${ip}]:${this.#peerPort}` : `${ip}:${this.#peerPort}`;
  }

  /** The peer server needs the edge's certificate; until it is there, the maintenance loop tries again. */
  async #startServer(): Promise<void> {
    if (this.#server !== undefined) return;
    const creds = this.#o.creds();
    if (creds === undefined) return;
    const server = new PeerServer(
      creds,
      (ip, port) => this.proxy.isLocalTarget(ip, port),
      this.#o.log,
      () => this.#advertise(),
    );
    this.#peerPort = await server.listen(this.#o.peerBind ?? '0.0.0.0', this.#o.listenPort);
    this.#server = server;
  }

  /** Every couple of seconds: bind the peer port once the certificate is there, (re)dial the mesh tunnel. */
  async #maintain(): Promise<void> {
    try {
      await this.#startServer();
    } catch (err) {
      this.#o.log?.error({ err, port: this.#o.listenPort }, 'EdgeMesh peer port cannot be bound');
    }
    if (this.#tunnel === undefined) await this.#connectTunnel();
    this.#schedule();
  }

  async #connectTunnel(): Promise<void> {
    const dial = this.#o.dialTunnel;
    if (dial === undefined || this.#stopped || this.#o.creds() === undefined) return;
    try {
      const t = await dial();
      if (this.#stopped) {
        t.close();
        return;
      }
      this.#tunnel = t;
      t.on(
        'stream',
        relayHandler(
          (ip, port) => this.proxy.isLocalTarget(ip, port),
          this.relayStats,
          this.#o.log,
          () => this.#advertise(),
        ),
      );
      t.on('close', () => {
        if (this.#tunnel === t) this.#tunnel = undefined;
      });
      this.#o.log?.info('EdgeMesh mesh tunnel to the cloud connected');
    } catch (err) {
      this.#o.log?.debug({ err }, 'EdgeMesh mesh tunnel dial failed; retrying');
    }
  }

  #schedule(ms = TUNNEL_RETRY_MS): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#maintain(), ms);
    this.#retry.unref();
  }
}
