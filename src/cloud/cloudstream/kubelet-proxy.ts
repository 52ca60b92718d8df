import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { TunnelStream } from '../../stream/index.ts';
import type { TunnelRegistry } from './registry.ts';

/** Headers that belong to one hop (RFC 9110 7.6.1) or carry the caller's credentials, never sent to the edge. */
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'authorization', 'proxy-authorization', 'host']);
const DROP_UPGRADE = new Set(['authorization', 'proxy-authorization', 'host']);

function forwardHeaders(req: IncomingMessage, drop: Set<string>): [string, string][] {
  const out: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!drop.has(name.toLowerCase())) out.push([name, raw[i + 1] as string]);
  }
  return out;
}

/**
 * Sends kubelet-API requests (the edge's C1 paths) through a node's kubelet tunnel. Each request gets a stream
 * of its own, with header `{kind: kubelet, node}`, that carries the HTTP/1.1 exchange as bytes: the edge pipes it
 * to its local kubelet server, so upgrades (WebSocket, SPDY) pass through unchanged. The node is chosen by the
 * caller from the pod's spec.nodeName; the edge refuses a stream whose `node` is not itself.
 */
export class KubeletTunnelProxy {
  readonly #registry: TunnelRegistry;
  readonly #log: Logger;

  constructor(registry: TunnelRegistry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
  }

  connected(node: string): boolean {
    return this.#registry.get(node, 'kubelet') !== undefined;
  }

  #open(node: string): TunnelStream | undefined {
    const entry = this.#registry.get(node, 'kubelet');
    if (entry === undefined) return undefined;
    return entry.session.open({ kind: 'kubelet', node });
  }

  /** A plain request (logs, healthz, stats): answered on `res`; `path` defaults to req.url. */
  kubeletRequest(node: string, req: IncomingMessage, res: ServerResponse, path = req.url ?? '/'): void {
    const stream = this.#open(node);
    if (stream === undefined) return fail(res, 502, `node ${node} has no stream tunnel to the cloud (is edgeStream enabled on it?)`);
    stream.on('error', () => {});
    const headers: Record<string, string> = {};
    for (const [k, v] of forwardHeaders(req, DROP)) headers[k] = v;
    const out = httpRequest({
      method: req.method ?? 'GET',
      path,
      headers: { ...headers, host: node, connection: 'close' },
      // No agent: with createConnection and no agent, Node uses the stream as this request's own socket.
      createConnection: () => stream as unknown as import('node:net').Socket,
    });
    out.on('response', (up) => {
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !DROP.has(k)) h[k] = v;
      res.writeHead(up.statusCode ?? 502, h);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    out.on('error', (err) => {
      this.#log.debug({ err, node, path }, 'kubelet request through tunnel failed');
      if (!res.headersSent) fail(res, 502, `kubelet of node ${node} did not answer: ${describeError(err)}`);
      else res.destroy();
    });
    // A client that goes away (kubectl logs -f interrupted) ends the stream, so the edge stops following.
    res.on('close', () => {
      if (!res.writableFinished) stream.destroy();
    });
    req.pipe(out);
  }

  /** An upgrade (exec, attach, portforward): the raw request is replayed on a stream and the bytes piped both ways. */
  kubeletUpgrade(node: string, req: IncomingMessage, socket: Duplex, head: Buffer, path = req.url ?? '/'): void {
    socket.on('error', () => {});
    const stream = this.#open(node);
    if (stream === undefined) {
      const msg = `node ${node} has no stream tunnel to the cloud (is edgeStream enabled on it?)\n`;
      socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(msg)}\r\nConnection: close\r\n\r\n${msg}`);
      return;
    }
    stream.on('error', () => socket.destroy());
    const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${node}`, ...forwardHeaders(req, DROP_UPGRADE).map(([k, v]) => `${k}: ${v}`)];
    stream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) stream.write(head);
    socket.pipe(stream);
    stream.pipe(socket);
    // A clean end travels as FIN through the pipes (queued bytes still go out); only an abrupt close cuts the other side.
    let ended = false;
    socket.on('end', () => {
      ended = true;
    });
    socket.on('close', () => {
      if (!ended) stream.destroy();
    });
    stream.on('close', () => socket.destroy());
  }
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: code === 502 ? 'ServiceUnavailable' : 'InternalError',
      code,
    }),
  );
}
