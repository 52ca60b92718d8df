import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import { logger } from '../../core/log.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import type { KeyPairDer } from '../../pki/x509.ts';
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
  idleTimeoutMs?: number;
  keepaliveMs?: number;
  windowBytes?: number;
  maxStreams?: number;
  log?: Logger;
};

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

  async start(_ctx: ModuleContext): Promise<void> {
    const t = this.#o.tunnel;
    const log = this.#log;
    this.#tunnel = new TunnelServer({
      ...t,
      registry: this.registry,
      tunnel: {
        idleTimeoutMs: this.#o.idleTimeoutMs ?? 5 * 60_000,
        keepaliveMs: this.#o.keepaliveMs ?? 15_000,
        ...(this.#o.windowBytes === undefined ? {} : { windowBytes: this.#o.windowBytes }),
        ...(this.#o.maxStreams === undefined ? {} : { maxStreams: this.#o.maxStreams }),
      },
      onTunnel: (node, purpose, session) => {
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
