import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../core/log.ts';
import { CloudStreamError } from './errors.ts';
import type { KubeletTunnelProxy } from './kubelet-proxy.ts';
import type { TunnelRegistry } from './registry.ts';

export type StreamServerOptions = {
  address: string;
  port: number;
  /** CA of the clients allowed in: the kube-apiserver's kubelet client certificate, or an admin's. */
  clientCaPem: string;
  certPem: string;
  keyPem: string;
  registry: TunnelRegistry;
  proxy: KubeletTunnelProxy;
  log: Logger;
};

/** `10.0.0.7:10350`, `[fd00::7]:10350`, `edge-1` -> the host part. */
export function hostOf(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * CloudStream's stream server (KubeEdge's :10003): what the kube-apiserver thinks is a node's kubelet. Requests
 * reach it on a node's address (KubeEdge's DNAT of <nodeIP>:10350, or a name that resolves here) and are routed by
 * their Host to the tunnel whose SessionInternalIP (or node name) it is. Only clients with a certificate from
 * tlsStreamCAFile get in: TLS refuses the rest.
 */
export class StreamServer {
  readonly #o: StreamServerOptions;
  readonly #https: Server;

  constructor(o: StreamServerOptions) {
    this.#o = o;
    this.#https = createServer({ ca: o.clientCaPem, cert: o.certPem, key: o.keyPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.#https.on('request', (req: IncomingMessage, res: ServerResponse) => this.#route(req, (node) => this.#o.proxy.kubeletRequest(node, req, res), res));
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      this.#route(req, (node) => this.#o.proxy.kubeletUpgrade(node, req, socket, head), socket);
    });
    this.#https.on('tlsClientError', (err: Error) => this.#o.log.debug({ err }, 'stream server TLS handshake refused'));
  }

  #route(req: IncomingMessage, go: (node: string) => void, out: ServerResponse | Duplex): void {
    const host = hostOf(req.headers.host ?? '');
    const entry = this.#o.registry.byAddress(host);
    if (entry === undefined) {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.(false)?.subject?.CN;
      this.#o.log.warn({ host, path: req.url, client: peer }, 'stream request for an address with no tunnel');
      const msg = `no edge node with address ${host} has a stream tunnel`;
      if ('writeHead' in out) out.writeHead(502, { 'Content-Type': 'text/plain' }).end(`${msg}\n`);
      else out.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${msg}\n`);
      return;
    }
    go(entry.node);
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#https.once('error', (err) =>
        reject(new CloudStreamError('KE_CLOUDSTREAM_LISTEN', `cannot listen on ${this.#o.address}:${this.#o.port}`, { port: this.#o.port }, { cause: err })),
      );
      this.#https.listen(this.#o.port, this.#o.address, () => {
        this.#https.removeAllListeners('error');
        this.#https.on('error', (err) => this.#o.log.error({ err }, 'stream server error'));
        resolve(this.#https.address() as AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#https.close(() => resolve());
      this.#https.closeAllConnections();
    });
  }
}
