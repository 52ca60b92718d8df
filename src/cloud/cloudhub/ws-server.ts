import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import { CloudHubError } from './errors.ts';
import { decodeFrame, encodeFrame, type FrameRejectReason } from '../../core/frame.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * ws's own limit closes the connection (1009). We want an oversized frame to cost only that frame, so ws gets a
 * generous ceiling and frames above `maxMessageBytes` are dropped by us; only frames above this ceiling still
 * kill the connection (ws must buffer a frame whole before we can look at it).
 */
const WS_PAYLOAD_CEILING = 64 * 1024 * 1024;

/** KubeEdge's TLS 1.2 suites (ECDSA only) plus the TLS 1.3 suites Go offers. */
const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
].join(':');

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EKU_OID = '2.5.29.37.0';

/** Node names become path segments of `node/<id>/...`; anything with a slash or space would corrupt routing. */
const NODE_ID_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** One accepted edge connection. */
export type NodeConnection = {
  readonly nodeId: string;
  readonly projectId: string;
  readonly remoteAddress: string;
  /** The upgrade request's path and headers (KubeEdge ignores the path; kept for logs and diagnostics). */
  readonly path: string;
  readonly headers: Readonly<IncomingHttpHeaders>;
  /** Resolves once the frame is handed to the socket; rejects (and drops the link) after the write timeout. */
  send(msg: Message): Promise<void>;
  close(reason: string): void;
};

export type AdmitVerdict = { ok: true } | { ok: false; status: number; reason: string };

export type WsServerHandlers = {
  /** Asked before the upgrade is accepted; a refusal becomes an HTTP error response. */
  admit(nodeId: string): AdmitVerdict;
  /** Asked first: does the client certificate speak for `nodeId`? A refusal becomes an HTTP error response. */
  authenticate?(nodeId: string, cert: X509Certificate): Promise<AdmitVerdict>;
  onOpen(conn: NodeConnection): void;
  onMessage(conn: NodeConnection, msg: Message): void;
  onClose(conn: NodeConnection, code: number, reason: string): void;
};

export type WsServerOptions = {
  address: string;
  port: number;
  caPem: string;
  certPem: string;
  keyPem: string;
  writeTimeoutMs: number;
  maxMessageBytes?: number;
  /**
   * Frames per second one edge may send before its socket is paused (TCP backpressure, nothing dropped), and the
   * burst allowed above that. One flooding peer then costs the cloud a bounded share, whatever it sends.
   */
  upstreamQps?: number;
  upstreamBurst?: number;
  log: Logger;
  handlers: WsServerHandlers;
};

export type UpgradeRefusal = 'missing_node_id' | 'bad_node_id' | 'client_cert' | 'identity' | 'admission';

export type WsServerStats = {
  framesIn: number;
  /** How often a connection was paused for sending faster than upstreamQps. */
  throttled: number;
  framesOut: number;
  rejectedFrames: Record<FrameRejectReason, number>;
  refusedUpgrades: Record<UpgradeRefusal, number>;
  tlsErrors: number;
  writeFailures: number;
};

const DEFAULT_UPSTREAM_QPS = 200;
const DEFAULT_UPSTREAM_BURST = 2000;

/** Tokens refill at `rate` per second up to `burst`; `take` returns how long to wait until the debt is paid. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at = performance.now();

  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
  }

  take(): number {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }
}

/** The first occurrence at once, then at most one summary line a second: a flood must not become a log flood. */
class RateLimitedLog {
  readonly #log: Logger;
  readonly #msg: string;
  #suppressed = 0;
  #last = 0;

  constructor(log: Logger, msg: string) {
    this.#log = log;
    this.#msg = msg;
  }

  note(fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#last < 1000) {
      this.#suppressed++;
      return;
    }
    this.#log.warn({ ...fields, alsoDroppedSinceLastLine: this.#suppressed }, this.#msg);
    this.#suppressed = 0;
    this.#last = now;
  }
}

export function emptyWsStats(): WsServerStats {
  return {
    framesIn: 0,
    throttled: 0,
    framesOut: 0,
    rejectedFrames: { oversize: 0, not_json: 0, invalid_message: 0 },
    refusedUpgrades: { missing_node_id: 0, bad_node_id: 0, client_cert: 0, identity: 0, admission: 0 },
    tlsErrors: 0,
    writeFailures: 0,
  };
}

function selectHttp11({ protocols }: { protocols: string[] }): string | undefined {
  return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
}

function headerValue(req: IncomingMessage, name: string): string {
  // Node lower-cases header names, which gives the case-insensitive match Go's canonicalised `Node_id` needs.
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

function statusText(status: number): string {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status] ?? 'Error';
}

/**
 * CloudHub's WebSocket listener: mutual TLS against the KubeEdge CA, identity from the `node_id` header (any
 * path, as KubeEdge registers `/`), one JSON message per frame. Bad frames are dropped and counted; the
 * connection survives them, unlike KubeEdge whose ReadJSON error ends the session.
 */
export class CloudWsServer {
  readonly #o: WsServerOptions;
  readonly #maxBytes: number;
  readonly #https: Server;
  readonly #wss: WebSocketServer;
  readonly #stats: WsServerStats = emptyWsStats();

  constructor(o: WsServerOptions) {
    this.#o = o;
    this.#maxBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#https = createServer({
      ca: o.caPem,
      cert: o.certPem,
      key: o.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ciphers: CIPHERS,
      // Same answer as https' default `ALPNProtocols: ['http/1.1']` (http/1.1 when offered, a fatal alert when only
      // others are), but that default is copied into a small pooled Buffer per socket, and a long-lived connection's
      // copy pins a whole 64 KiB pool slab: ~26 KiB per idle edge measured at 1000 edges (heap snapshot).
      ALPNCallback: selectHttp11,
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: Math.max(WS_PAYLOAD_CEILING, this.#maxBytes * 2),
    });
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#https.on('request', (_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('websocket upgrade required\n');
    });
    this.#https.on('tlsClientError', (err: Error, sock: Socket) => {
      this.#stats.tlsErrors++;
      this.#o.log.debug({ err, remote: sock.remoteAddress }, 'TLS handshake refused');
    });
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new CloudHubError(
            'KE_CLOUDHUB_LISTEN',
            `cannot listen on ${this.#o.address}:${this.#o.port}`,
            {
              address: this.#o.address,
              port: this.#o.port,
            },
            err,
          ),
        );
      };
      this.#https.once('error', onError);
      this.#https.listen(this.#o.port, this.#o.address, () => {
        this.#https.off('error', onError);
        this.#https.on('error', (err) => this.#o.log.error({ err }, 'cloudhub server error'));
        resolve(this.#https.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    const a = this.#https.address();
    return typeof a === 'object' ? a : null;
  }

  stats(): WsServerStats {
    return structuredClone(this.#stats);
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => {
      this.#https.close(() => resolve());
      this.#https.closeAllConnections();
    });
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  // A listener made inside #onUpgrade would share its closure context, which holds the request and the upgrade
  // `head` buffer, and keep them for the whole life of the connection.
  readonly #onUpgradeSocketError = (err: Error): void => this.#o.log.debug({ err }, 'upgrade socket error');

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', this.#onUpgradeSocketError);
    const log = this.#o.log;
    const nodeId = headerValue(req, 'node_id');
    const projectId = headerValue(req, 'project_id');
    const remote = (socket as Socket).remoteAddress ?? '';
    if (nodeId === '') {
      this.#stats.refusedUpgrades.missing_node_id++;
      log.warn({ remote, path: req.url }, 'upgrade refused: no node_id header');
      return refuse(socket, 400, 'node_id header required');
    }
    if (!NODE_ID_RE.test(nodeId)) {
      this.#stats.refusedUpgrades.bad_node_id++;
      log.warn({ remote, nodeId: nodeId.slice(0, 64) }, 'upgrade refused: node_id is not a valid node name');
      return refuse(socket, 400, 'node_id is not a valid node name');
    }
    const certProblem = this.#clientCertProblem(socket as TLSSocket);
    if (certProblem !== undefined) {
      this.#stats.refusedUpgrades.client_cert++;
      log.warn({ remote, nodeId, problem: certProblem }, 'upgrade refused: client certificate');
      return refuse(socket, certProblem === 'not authorized' ? 401 : 403, `client certificate ${certProblem}`);
    }
    const authenticate = this.#o.handlers.authenticate;
    const cert = (socket as TLSSocket).getPeerX509Certificate();
    if (authenticate === undefined || cert === undefined) return this.#admit(req, socket, head, nodeId, projectId, remote);
    authenticate(nodeId, cert).then(
      (v) => {
        if (socket.destroyed) return;
        if (!v.ok) {
          this.#stats.refusedUpgrades.identity++;
          log.warn({ remote, nodeId, reason: v.reason }, 'upgrade refused: certificate does not speak for this node');
          return refuse(socket, v.status, v.reason);
        }
        this.#admit(req, socket, head, nodeId, projectId, remote);
      },
      (err: unknown) => {
        this.#stats.refusedUpgrades.identity++;
        log.error({ remote, nodeId, err }, 'upgrade refused: identity check failed');
        refuse(socket, 503, 'identity check failed, retry later');
      },
    );
  }

  #admit(req: IncomingMessage, socket: Duplex, head: Buffer, nodeId: string, projectId: string, remote: string): void {
    const log = this.#o.log;
    const verdict = this.#o.handlers.admit(nodeId);
    if (!verdict.ok) {
      this.#stats.refusedUpgrades.admission++;
      log.warn({ remote, nodeId, reason: verdict.reason }, 'upgrade refused');
      return refuse(socket, verdict.status, verdict.reason);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onOpen(ws, req, nodeId, projectId, remote));
  }

  /** The TLS layer already checked the CA; Go also insists on the clientAuth usage when the cert lists usages. */
  #clientCertProblem(tls: TLSSocket): string | undefined {
    if (!tls.authorized) return 'not authorized';
    const cert = tls.getPeerX509Certificate();
    if (cert === undefined) return 'missing';
    const eku = cert.keyUsage;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID) && !eku.includes(ANY_EKU_OID)) {
      return 'lacks clientAuth usage';
    }
    return undefined;
  }

  #onOpen(ws: WebSocket, req: IncomingMessage, nodeId: string, projectId: string, remoteAddress: string): void {
    const log = this.#o.log.child({ nodeId });
    const stats = this.#stats;
    const writeTimeoutMs = this.#o.writeTimeoutMs;
    const conn: NodeConnection = {
      nodeId,
      projectId,
      remoteAddress,
      path: req.url ?? '',
      headers: req.headers,
      send: (msg) =>
        new Promise<void>((resolve, reject) => {
          // A peer that stops reading fills the TCP window and the write never completes: give up and drop it.
          const timer = setTimeout(() => {
            stats.writeFailures++;
            log.warn({ writeTimeoutMs }, 'write timed out, closing connection');
            ws.terminate();
            reject(new CloudHubError('KE_CLOUDHUB_WRITE', 'write timed out', { nodeId, writeTimeoutMs }));
          }, writeTimeoutMs);
          ws.send(encodeFrame(msg), (err) => {
            clearTimeout(timer);
            if (err !== undefined && err !== null) {
              stats.writeFailures++;
              reject(new CloudHubError('KE_CLOUDHUB_WRITE', `write failed: ${err.message}`, { nodeId }, err));
              return;
            }
            stats.framesOut++;
            resolve();
          });
        }),
      close: (reason) => {
        log.info({ reason }, 'closing connection');
        ws.close(1000, reason.slice(0, 120));
        // A peer that ignores the close handshake must not keep the socket.
        setTimeout(() => ws.terminate(), 2000).unref();
      },
    };
    const bucket = new TokenBucket(this.#o.upstreamQps ?? DEFAULT_UPSTREAM_QPS, this.#o.upstreamBurst ?? DEFAULT_UPSTREAM_BURST);
    const dropped = new RateLimitedLog(log, 'frames dropped');
    ws.on('message', (data, isBinary) => {
      stats.framesIn++;
      const waitMs = bucket.take();
      if (waitMs > 0 && !ws.isPaused) {
        stats.throttled++;
        ws.pause();
        setTimeout(() => ws.resume(), waitMs).unref();
      }
      const d = decodeFrame(data, this.#maxBytes);
      if (!d.ok) {
        stats.rejectedFrames[d.reason]++;
        dropped.note({ reason: d.reason, detail: d.detail, isBinary });
        return;
      }
      this.#o.handlers.onMessage(conn, d.msg);
    });
    ws.on('error', (err) => log.warn({ err }, 'websocket error'));
    ws.on('close', (code, reason) => this.#o.handlers.onClose(conn, code, reason.toString()));
    log.info({ remoteAddress, projectId }, 'edge connected');
    this.#o.handlers.onOpen(conn);
  }
}
