import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../core/log.ts';
import type { KeyPairDer } from '../../pki/x509.ts';
import { HEADER_INTERNAL_IP, HEADER_NODE, TUNNEL_MAX_PAYLOAD, TUNNEL_PATH, type TunnelPurpose, TunnelSession } from '../../stream/index.ts';
import { OID_CLIENT_AUTH, certFacts } from '../../pki/cert-info.ts';
import type { EdgeIdentityPolicy } from '../../pki/edge-identity.ts';
import { CloudStreamError } from './errors.ts';
import type { TunnelRegistry } from './registry.ts';

export type TunnelServerOptions = {
  address: string;
  port: number;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The CA edge certificates chain to (the cloudHub CA); TLS checks the chain against caPem. */
  ca: KeyPairDer;
  /** Ties SessionHostNameOverride to the certificate, as CloudHub does for node_id (same policy, same switches). */
  identity: EdgeIdentityPolicy;
  registry: TunnelRegistry;
  /** Called for each new tunnel (CloudStream wires the mesh relay here). */
  onTunnel: (node: string, purpose: TunnelPurpose, session: TunnelSession, internalIP: string | undefined) => void;
  tunnel: { windowBytes?: number; maxStreams?: number; idleTimeoutMs: number; keepaliveMs: number };
  log: Logger;
};

export type TunnelServerStats = { accepted: number; refused: Record<string, number> };

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
}

/**
 * CloudStream's tunnel listener (KubeEdge's :10004 `/v1/kubeedge/connect`): mutual TLS against the cluster CA;
 * the node is the certificate's `system:node:<name>` (which must equal SessionHostNameOverride) or, for a
 * certificate naming no node (KubeEdge's shared `CN=kubeedge.io`), the header alone while
 * cloudHub.authorization allows shared certificates; a deleted node's certificate is refused (EdgeIdentityPolicy).
 */
export class TunnelServer {
  readonly #o: TunnelServerOptions;
  readonly #https: Server;
  readonly #wss: WebSocketServer;
  readonly stats: TunnelServerStats = { accepted: 0, refused: {} };

  constructor(o: TunnelServerOptions) {
    this.#o = o;
    this.#https = createServer({ ca: o.caPem, cert: o.certPem, key: o.keyPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.#wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: TUNNEL_MAX_PAYLOAD });
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#https.on('request', (_req, res) => res.writeHead(400, { 'Content-Type': 'text/plain' }).end('websocket upgrade required\n'));
    this.#https.on('tlsClientError', (err: Error, sock: Socket) => this.#o.log.debug({ err, remote: sock.remoteAddress }, 'tunnel TLS handshake refused'));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(new CloudStreamError('KE_CLOUDSTREAM_LISTEN', `cannot listen on ${this.#o.address}:${this.#o.port}`, { port: this.#o.port }, { cause: err }));
      this.#https.once('error', onError);
      this.#https.listen(this.#o.port, this.#o.address, () => {
        this.#https.off('error', onError);
        this.#https.on('error', (err) => this.#o.log.error({ err }, 'tunnel server error'));
        resolve(this.#https.address() as AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => {
      this.#https.close(() => resolve());
      this.#https.closeAllConnections();
    });
  }

  #refuse(socket: Duplex, status: number, why: string, detail: string, ctx: Record<string, unknown>): void {
    this.stats.refused[why] = (this.stats.refused[why] ?? 0) + 1;
    this.#o.log.warn({ ...ctx, why }, `tunnel refused: ${detail}`);
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${detail}\n`);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#o.log.debug({ err }, 'tunnel upgrade socket error'));
    const remote = (socket as Socket).remoteAddress ?? '';
    const url = new URL(req.url ?? '/', 'https://cloudstream');
    if (url.pathname !== TUNNEL_PATH) return this.#refuse(socket, 404, 'path', `no tunnel at ${url.pathname}; use ${TUNNEL_PATH}`, { remote });
    const purposeRaw = url.searchParams.get('purpose') ?? 'kubelet';
    if (purposeRaw !== 'kubelet' && purposeRaw !== 'mesh')
      return this.#refuse(socket, 400, 'purpose', `purpose must be kubelet or mesh, not "${purposeRaw}"`, { remote });
    const purpose: TunnelPurpose = purposeRaw;
    const node = header(req, HEADER_NODE);
    if (node === '') return this.#refuse(socket, 400, 'no_node', `header ${HEADER_NODE} is required`, { remote });
    const peer = (socket as TLSSocket).getPeerCertificate?.(false);
    const der = peer?.raw instanceof Buffer ? peer.raw : undefined;
    if (der === undefined) return this.#refuse(socket, 401, 'no_cert', 'a client certificate is required', { remote, node });
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return this.#refuse(socket, 401, 'cert', 'client certificate is unreadable', { remote, node });
    }
    // Go's x509 treats a certificate without EKUs as good for any usage; one that lists some must list clientAuth.
    const eku = certFacts(der)?.eku ?? [];
    if (eku.length > 0 && !eku.includes(OID_CLIENT_AUTH))
      return this.#refuse(socket, 401, 'cert', 'client certificate lacks the clientAuth usage', { remote, node });
    this.#o.identity.check(node, cert).then(
      (v) => {
        if (!v.ok) return this.#refuse(socket, v.status, v.refusal, v.reason, { remote, node });
        this.#accept(req, socket, head, node, purpose, remote, v.identity === 'shared');
      },
      (err: unknown) => {
        this.#o.log.warn({ err, node }, 'tunnel identity check failed');
        this.#refuse(socket, 401, 'cert', 'cannot check the client certificate', { remote, node });
      },
    );
  }

  #accept(req: IncomingMessage, socket: Duplex, head: Buffer, node: string, purpose: TunnelPurpose, remote: string, sharedCert: boolean): void {
    if (socket.destroyed) return;
    const internalIP = header(req, HEADER_INTERNAL_IP) || undefined;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const t = this.#o.tunnel;
      const session = new TunnelSession(ws, {
        idleTimeoutMs: t.idleTimeoutMs,
        keepaliveMs: t.keepaliveMs,
        ...(t.windowBytes === undefined ? {} : { windowBytes: t.windowBytes }),
        ...(t.maxStreams === undefined ? {} : { maxStreams: t.maxStreams }),
        log: this.#o.log.child({ node, purpose }),
      });
      this.stats.accepted++;
      this.#o.registry.add({ node, purpose, internalIP, session, since: Date.now() });
      this.#o.log.info({ node, purpose, internalIP, remote, sharedCert }, 'tunnel connected');
      session.on('close', () => this.#o.log.info({ node, purpose }, 'tunnel disconnected'));
      this.#o.onTunnel(node, purpose, session, internalIP);
    });
  }
}
