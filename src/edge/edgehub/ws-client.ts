import WebSocket from 'ws';
import type { Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import { EdgeHubError } from './errors.ts';
import { decodeFrame, encodeFrame, type FrameRejectReason } from '../../core/frame.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const WS_PAYLOAD_CEILING = 64 * 1024 * 1024;

export type DialOptions = {
  /** `host:port` as in edgecore.yaml `websocket.server` (a `wss://` prefix is tolerated). */
  server: string;
  projectId: string;
  nodeName: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  handshakeTimeoutMs: number;
  maxMessageBytes?: number;
  log: Logger;
  /** Abandons a dial in progress (edgecore stopping). */
  signal?: AbortSignal;
};

export type CloudLinkHandlers = {
  onMessage(msg: Message): void;
  onRejectedFrame(reason: FrameRejectReason, detail: string): void;
  /** Called once, when the link is gone for whatever reason. */
  onClose(code: number, reason: string): void;
};

/** KubeEdge's edge URL: the cloud ignores the path, but proxies and logs see it. */
export function cloudUrl(server: string, projectId: string, nodeName: string): string {
  const host = server.replace(/^wss?:\/\//, '').replace(/\/+$/, '');
  return `wss://${host}/${encodeURIComponent(projectId)}/${encodeURIComponent(nodeName)}/events`;
}

/** An open link to the cloud. */
export class CloudLink {
  readonly #ws: WebSocket;
  readonly #log: Logger;
  readonly openedAt = Date.now();
  #pongSeen = false;
  #awaitingPong = false;

  constructor(ws: WebSocket, log: Logger) {
    this.#ws = ws;
    this.#log = log;
    ws.on('pong', () => {
      this.#pongSeen = true;
      this.#awaitingPong = false;
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Resolves once the frame is handed to the socket; a failed write also drops the link. */
  send(msg: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ws.send(encodeFrame(msg), (err) => {
        if (err === undefined || err === null) return resolve();
        this.#log.warn({ err }, 'write to cloud failed, dropping link');
        this.#ws.terminate();
        reject(new EdgeHubError('KE_EDGEHUB_WRITE', `write to cloud failed: ${err.message}`, {}, err));
      });
    });
  }

  /**
   * A ws-level liveness probe. The KubeEdge cloud never answers keepalives, but gorilla answers pings, so once a
   * pong has been seen on this link, a ping left unanswered for a whole heartbeat means the link is dead. A peer
   * that never answers pings is never judged by them. Returns false when the link was declared dead.
   */
  probe(): boolean {
    if (this.#pongSeen && this.#awaitingPong) {
      this.#log.warn('cloud stopped answering pings, dropping link');
      this.#ws.terminate();
      return false;
    }
    this.#awaitingPong = true;
    try {
      this.#ws.ping();
    } catch (err) {
      this.#log.debug({ err }, 'ping failed');
    }
    return true;
  }

  close(reason: string): void {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    this.#ws.close(1000, reason.slice(0, 120));
    setTimeout(() => this.#ws.terminate(), 2000).unref();
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

/**
 * Dials the cloud with the headers KubeEdge's edge sends (`node_id`, `project_id`, `ConnectionUse: msg`) and
 * mutual TLS. The server certificate is checked against the CA with normal hostname/IP verification.
 */
export function dialCloud(o: DialOptions, h: CloudLinkHandlers): Promise<CloudLink> {
  const url = cloudUrl(o.server, o.projectId, o.nodeName);
  const maxBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { node_id: o.nodeName, project_id: o.projectId, ConnectionUse: 'msg' },
      ca: o.caPem,
      cert: o.certPem,
      key: o.keyPem,
      minVersion: 'TLSv1.2',
      handshakeTimeout: o.handshakeTimeoutMs,
      perMessageDeflate: false,
      maxPayload: Math.max(WS_PAYLOAD_CEILING, maxBytes * 2),
    });
    let settled = false;
    // ws's timeout is per socket inactivity; this bounds the whole TCP+TLS+upgrade sequence.
    const timer = setTimeout(() => fail(new Error(`handshake not done after ${o.handshakeTimeoutMs} ms`)), o.handshakeTimeoutMs);
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      ws.terminate();
      reject(new EdgeHubError('KE_EDGEHUB_DIAL', `cannot connect to ${url}: ${err.message}`, { url }, err));
    };
    const onAbort = (): void => fail(new Error('dial abandoned'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted === true) onAbort();
    // A refused upgrade carries the cloud's reason in its body (wrong node for the certificate, deleted node,
    // shared certificate not allowed): say it, instead of ws's bare "Unexpected server response: 403".
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 1024) body += d;
      });
      res.on('end', () => fail(new Error(`cloud refused the connection: HTTP ${res.statusCode ?? 0}: ${body.trim().slice(0, 1024)}`)));
      res.on('error', (err) => fail(err));
    });
    ws.on('error', (err) => {
      if (!settled) fail(err);
      else o.log.warn({ err }, 'cloud link error');
    });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      const link = new CloudLink(ws, o.log);
      ws.on('message', (data) => {
        const d = decodeFrame(data, maxBytes);
        if (d.ok) h.onMessage(d.msg);
        else h.onRejectedFrame(d.reason, d.detail);
      });
      ws.once('close', (code, reason) => h.onClose(code, reason.toString()));
      resolve(link);
    });
  });
}
