import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import { logger } from '../../core/log.ts';
import { newMessage, Operation } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeIdentityPolicy, type EdgeIdentityOptions } from '../../pki/edge-identity.ts';
import type { KeyPairDer } from '../../pki/x509.ts';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../stream/index.ts';
import { KubeletTunnelProxy } from './kubelet-proxy.ts';
import { TunnelRegistry } from './registry.ts';
import { relayMeshStream } from './relay.ts';
import { StreamServer } from './stream-server.ts';
import { TunnelServer } from './tunnel-server.ts';

export type CloudStreamOptions = {
  enabled: boolean;
  tunnel: { address: string; port: number; caPem: string; certPem: string; keyPem: string; ca: KeyPairDer };
  /** The kubelet-facing server for a real cluster's kube-apiserver; undefined = not served (in-process path only). */
  stream?: { address: string; port: number; clientCaPem: string; certPem: string; keyPem: string } | undefined;
  /** The identity rules CloudHub applies (allowSharedCerts from cloudHub.authorization, nodeExists); default: shared allowed. */
  identity?: Omit<EdgeIdentityOptions, 'log'>;
  idleTimeoutMs?: number;
  keepaliveMs?: number;
  windowBytes?: number;
  maxStreams?: number;
  log?: Logger;
};

/** Bus names shared with src/cloud/iptablesmanager (messages, not imports, join the two modules). */
const IPTABLES_MANAGER = 'iptablesManager';
export const TUNNEL_RESOURCE = 'cloudstream/tunnel';

/**
 * KubeEdge's CloudStream: the tunnel server edges dial (one tunnel per node and purpose), the kubelet-API proxy
 * over those tunnels (in process for the embedded API server, and as the stream server for a real one), and the
 * EdgeMesh relay between two nodes' mesh tunnels.
 */
export class CloudStream implements Module {
  readonly name = 'cloudStream';
  readonly group = 'cloudStream';
  readonly enabled: boolean;
  readonly registry = new TunnelRegistry();
  readonly proxy: KubeletTunnelProxy;
  readonly #o: CloudStreamOptions;
  readonly #log: Logger;
  #tunnel: TunnelServer | undefined;
  #stream: StreamServer | undefined;
  tunnelAddress: AddressInfo | undefined;
  streamAddress: AddressInfo | undefined;

  constructor(o: CloudStreamOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#log = o.log ?? logger('cloudstream');
    this.proxy = new KubeletTunnelProxy(this.registry, this.#log);
  }

  async start(ctx: ModuleContext): Promise<void> {
    const t = this.#o.tunnel;
    const log = this.#log;
    this.#tunnel = new TunnelServer({
      ...t,
      registry: this.registry,
      identity: new EdgeIdentityPolicy({ allowSharedCerts: true, ...this.#o.identity, log: log.child({ part: 'identity' }) }),
      tunnel: {
        idleTimeoutMs: this.#o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        keepaliveMs: this.#o.keepaliveMs ?? 15_000,
        ...(this.#o.windowBytes === undefined ? {} : { windowBytes: this.#o.windowBytes }),
        ...(this.#o.maxStreams === undefined ? {} : { maxStreams: this.#o.maxStreams }),
      },
      onTunnel: (node, purpose, session, internalIP) => {
        if (purpose === 'kubelet') this.#announce(ctx, node, internalIP, session);
        session.on('stream', (header, stream) => {
          if (purpose === 'mesh') return relayMeshStream(node, header, stream, this.registry, log);
          stream.on('error', () => {});
          stream.reset(`the cloud serves no "${header.kind}" streams on a kubelet tunnel`);
        });
      },
      log,
    });
    this.tunnelAddress = await this.#tunnel.listen();
    log.info({ address: `${this.tunnelAddress.address}:${this.tunnelAddress.port}` }, 'tunnel server listening');
    const s = this.#o.stream;
    if (s !== undefined) {
      this.#stream = new StreamServer({ ...s, registry: this.registry, proxy: this.proxy, log });
      this.streamAddress = await this.#stream.listen();
      log.info({ address: `${this.streamAddress.address}:${this.streamAddress.port}` }, 'stream server listening');
    }
  }

  /**
   * Tells iptablesManager (if it runs) that a node's kubelet tunnel came up, and that it went; a tunnel replaced
   * by the same node's newer one is not reported gone.
   */
  #announce(ctx: ModuleContext, node: string, internalIP: string | undefined, session: { on(e: 'close', fn: () => void): unknown }): void {
    const send = (operation: string): void => {
      // Unit tests start the module without a bus.
      if (ctx.bus?.has(IPTABLES_MANAGER) !== true) return;
      ctx.bus.send(IPTABLES_MANAGER, newMessage({ source: this.name, group: this.group, operation, resource: TUNNEL_RESOURCE, content: { node, internalIP } }));
    };
    send(Operation.connect);
    session.on('close', () => {
      if (this.registry.get(node, 'kubelet') === undefined) send(Operation.delete);
    });
  }

  async stop(): Promise<void> {
    this.registry.closeAll();
    await this.#stream?.close();
    await this.#tunnel?.close();
  }

  kubeletRequest(node: string, req: IncomingMessage, res: ServerResponse, path?: string): void {
    this.proxy.kubeletRequest(node, req, res, path);
  }

  kubeletUpgrade(node: string, req: IncomingMessage, socket: Duplex, head: Buffer, path?: string): void {
    this.proxy.kubeletUpgrade(node, req, socket, head, path);
  }
}
