import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeEdgeError, describeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import type { PodRef } from '../pods/index.ts';
import type { ContainerRuntime, LogOptions, StreamFlags } from '../runtime/types.ts';
import type { StatsSource } from '../stats/types.ts';
import { SPDY_REMOTECOMMAND, WS_REMOTECOMMAND, acceptSpdy, spdyRemoteChannels, wsRemoteChannels, type RemoteChannels } from './channels.ts';
import { servePortForwardSpdy, servePortForwardWs } from './portforward.ts';
import { bridgeToSpdy } from './spdy-upstream.ts';
import { errorStatus, exitCodeStatus, successStatus } from './status.ts';

/** What the server needs from edged: the pods it runs. */
export type PodSource = {
  lookup(namespace: string, name: string): PodRef | undefined;
  /** The pod objects, for GET /pods. */
  pods(): unknown[];
};

export type KubeletServerOptions = {
  /** 0 = any free port (tests); the config's readOnlyPort otherwise. */
  port: number;
  /** Loopback only: the tunnel and the cloud side bring TLS and authentication. */
  host?: string;
  pods: PodSource;
  runtime: ContainerRuntime;
  stats?: StatsSource;
  /** `streamingConnectionIdleTimeout`: an exec/attach/port-forward connection with no bytes either way this long is closed. */
  streamIdleTimeoutMs?: number;
  log: Logger;
};

const WS_PORTFORWARD = ['v4.channel.k8s.io', 'portforward.k8s.io', 'channel.k8s.io'];
const SPDY_PORTFORWARD = ['portforward.k8s.io'];

type Route =
  | { kind: 'logs' | 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string }
  | { kind: 'healthz' | 'pods' | 'metricsResource' | 'statsSummary' };

/** Kubelet paths: `/{verb}/{ns}/{pod}/{container}` and the `/{verb}/{ns}/{pod}/{uid}/{container}` form. */
export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const [verb, ns, pod] = parts;
  if (parts.length === 1 && verb === 'healthz') return { kind: 'healthz' };
  if (parts.length === 1 && verb === 'pods') return { kind: 'pods' };
  if (pathname === '/metrics/resource') return { kind: 'metricsResource' };
  if (pathname === '/stats/summary') return { kind: 'statsSummary' };
  if (ns === undefined || pod === undefined) return undefined;
  if (verb === 'portForward' && (parts.length === 3 || parts.length === 4)) return { kind: 'portForward', namespace: ns, pod };
  const container = parts.length === 4 ? parts[3] : parts.length === 5 ? parts[4] : undefined;
  if (container === undefined) return undefined;
  if (verb === 'containerLogs') return { kind: 'logs', namespace: ns, pod, container };
  if (verb === 'exec' || verb === 'attach') return { kind: verb, namespace: ns, pod, container };
  return undefined;
}

const truthy = (v: string | null): boolean => v !== null && (v === '' || v === '1' || v.toLowerCase() === 'true');

/** The kubelet reads `input/output/error/tty` (what the API server sends); kubectl's own names work too. */
export function streamFlags(q: URLSearchParams): StreamFlags {
  const flag = (a: string, b: string): boolean => truthy(q.get(a)) || truthy(q.get(b));
  return { stdin: flag('input', 'stdin'), stdout: flag('output', 'stdout'), stderr: flag('error', 'stderr'), tty: truthy(q.get('tty')) };
}

/** A kubelet API request refused (unknown pod or container, bad query, no upgrade): answered with `status`. */
export class KubeletRequestError extends KubeEdgeError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('KE_KUBELET_API_REQUEST', message, { status });
    this.status = status;
  }
}

const HttpError = KubeletRequestError;

/**
 * edged's kubelet API on loopback (C1): container logs, exec, attach and port-forward for the pods this edge
 * runs, over both engines, plus /healthz, /pods and the stats routes. Other pods are 404. Malformed requests get
 * 400 and a count; nothing a client sends can throw through the daemon.
 */
export class KubeletServer {
  readonly #o: KubeletServerOptions;
  readonly #http: http.Server;
  readonly #wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pickProtocol(offered) });
  readonly #sockets = new Set<Duplex>();
  /** Requests refused as malformed or for unknown pods. */
  rejected = 0;

  constructor(o: KubeletServerOptions) {
    this.#o = o;
    this.#http = http.createServer((req, res) => {
      this.#onRequest(req, res).catch((err: unknown) => this.#fail(res, err));
    });
    this.#http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      this.#armIdle(socket, req.url);
      socket.on('error', () => undefined);
      this.#onUpgrade(req, socket, head).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status < 500) {
          this.rejected++;
          this.#o.log.info({ err, url: req.url }, 'kubelet API request refused');
        } else this.#o.log.warn({ err, url: req.url }, 'kubelet API upgrade failed');
        refuseUpgrade(socket, status, describeError(err));
      });
    });
    this.#http.on('clientError', (_err, socket) => socket.destroy());
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#o.port, this.#o.host ?? '127.0.0.1', () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    return (this.#http.address() as net.AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    for (const c of this.#wss.clients) c.terminate();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #fail(res: http.ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : 500;
    if (status >= 500) this.#o.log.warn({ err }, 'kubelet API request failed');
    else {
      this.rejected++;
      this.#o.log.info({ err }, 'kubelet API request refused');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${describeError(err)}\n`);
  }

  #pod(namespace: string, name: string): PodRef {
    const ref = this.#o.pods.lookup(namespace, name);
    if (!ref) throw new HttpError(404, `pod ${namespace}/${name} is not running on this node`);
    return ref;
  }

  #container(ref: PodRef, name: string): PodRef['containers'][number] {
    const c = ref.containers.find((x) => x.name === name);
    if (!c) throw new HttpError(404, `container ${name} is not valid for pod ${ref.name}`);
    return c;
  }

  #running(ref: PodRef, name: string): string {
    const id = this.#container(ref, name).currentId;
    if (!id) throw new HttpError(400, `container "${name}" in pod "${ref.name}" is waiting to start`);
    return id;
  }

  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const route = parseRoute(url.pathname);
    if (!route) throw new HttpError(404, `no kubelet API route ${url.pathname}`);
    switch (route.kind) {
      case 'healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      case 'pods':
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.#o.pods.pods() }));
        return;
      case 'metricsResource':
      case 'statsSummary': {
        const stats = this.#o.stats;
        if (!stats) throw new HttpError(503, 'stats are not collected on this node');
        if (route.kind === 'metricsResource') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(await stats.resourceMetrics());
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await stats.summary()));
        return;
      }
      case 'logs':
        await this.#logs(route, url.searchParams, req, res);
        return;
      default:
        throw new HttpError(400, `${route.kind} needs a connection upgrade (SPDY/3.1 or WebSocket)`);
    }
  }

  async #logs(
    route: { namespace: string; pod: string; container: string },
    q: URLSearchParams,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const streaming = this.#o.runtime.streaming;
    if (!streaming) throw new HttpError(501, `the ${this.#o.runtime.name} runtime serves no logs`);
    const ref = this.#pod(route.namespace, route.pod);
    const previous = truthy(q.get('previous'));
    const c = this.#container(ref, route.container);
    const id = previous ? c.previousId : c.currentId;
    if (!id) {
      throw new HttpError(
        400,
        previous
          ? `previous terminated container "${c.name}" in pod "${ref.name}" not found`
          : `container "${c.name}" in pod "${ref.name}" is waiting to start`,
      );
    }
    const o = logOptions(q);
    const limit = intParam(q, 'limitBytes');
    const ac = new AbortController();
    req.socket.on('close', () => ac.abort());
    res.on('close', () => ac.abort());
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    let sent = 0;
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (ac.signal.aborted) {
          cb();
          return;
        }
        let part = chunk;
        if (limit !== undefined && sent + part.length >= limit) {
          part = part.subarray(0, Math.max(0, limit - sent));
          ac.abort();
        }
        sent += part.length;
        if (part.length === 0 || res.write(part)) cb();
        else res.once('drain', () => cb());
      },
    });
    try {
      await streaming.logs(id, o, out, ac.signal);
    } catch (err) {
      if (!ac.signal.aborted) this.#o.log.warn({ err, pod: ref.name, container: c.name }, 'log stream failed');
    }
    res.end();
  }

  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const route = parseRoute(url.pathname);
    if (!route || (route.kind !== 'exec' && route.kind !== 'attach' && route.kind !== 'portForward'))
      throw new HttpError(404, `no streaming route ${url.pathname}`);
    const ref = this.#pod(route.namespace, route.pod);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const isSpdy = upgrade.startsWith('spdy/');
    if (!isSpdy && upgrade !== 'websocket') throw new HttpError(400, `unsupported upgrade ${upgrade}`);

    if (route.kind === 'portForward') {
      const target = { host: ref.hostNetwork || !ref.podIP ? '127.0.0.1' : ref.podIP };
      if (isSpdy) {
        const accepted = acceptSpdy(req, socket, head, SPDY_PORTFORWARD, this.#o.log);
        if (accepted) servePortForwardSpdy(accepted.session, target, this.#o.log);
        return;
      }
      const ports = (url.searchParams.get('ports') ?? url.searchParams.getAll('port').join(','))
        .split(',')
        .filter((p) => p !== '')
        .map(Number);
      if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535))
        throw new HttpError(400, 'query parameter "ports" must list ports 1-65535');
      const ws = await this.#acceptWs(req, socket, head);
      servePortForwardWs(ws, ports, target, this.#o.log);
      return;
    }

    const id = this.#running(ref, route.container);
    const flags = streamFlags(url.searchParams);
    const cmd = url.searchParams.getAll('command');
    if (route.kind === 'exec' && cmd.length === 0) throw new HttpError(400, 'query parameter "command" is required');
    if (!flags.stdin && !flags.stdout && !flags.stderr) throw new HttpError(400, 'you must specify at least 1 of stdin, stdout, stderr');
    const streaming = this.#o.runtime.streaming;
    if (streaming?.streamUrl) {
      // CRI: the runtime's streaming server does the rest; the upgrade goes there as it came.
      const target = await streaming.streamUrl(route.kind === 'exec' ? { kind: 'exec', id, cmd, flags } : { kind: 'attach', id, flags });
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim());
      if (!isSpdy && offered.includes('v5.channel.k8s.io')) {
        // v5 (stdin close) is more than the runtime's WebSocket side speaks: bridge to its SPDY side instead.
        const ws = await this.#acceptWs(req, socket, head);
        await bridgeToSpdy(target, flags, wsRemoteChannels(ws, flags, this.#o.log));
        return;
      }
      proxyUpgrade(req, socket, head, target, this.#o.log);
      return;
    }
    const run = route.kind === 'exec' ? streaming?.execStream?.bind(streaming) : undefined;
    const attach = route.kind === 'attach' ? streaming?.attachStream?.bind(streaming) : undefined;
    if (!run && !attach) throw new HttpError(501, `the ${this.#o.runtime.name} runtime cannot ${route.kind}`);
    let ch: RemoteChannels;
    if (isSpdy) {
      const accepted = acceptSpdy(req, socket, head, SPDY_REMOTECOMMAND, this.#o.log);
      if (!accepted) return;
      ch = await spdyRemoteChannels(accepted.session, accepted.protocol, flags);
    } else {
      ch = wsRemoteChannels(await this.#acceptWs(req, socket, head), flags, this.#o.log);
    }
    const io = {
      tty: flags.tty,
      signal: ch.signal,
      resize: ch.resize,
      ...(ch.stdin ? { stdin: ch.stdin } : {}),
      ...(ch.stdout ? { stdout: ch.stdout } : {}),
      ...(ch.stderr ? { stderr: ch.stderr } : {}),
    };
    try {
      if (run) {
        const code = await run(id, cmd, io);
        await ch.finish(code === 0 ? successStatus() : exitCodeStatus(cmd, code));
      } else if (attach) {
        await attach(id, io);
        await ch.finish(successStatus());
      }
    } catch (err) {
      this.#o.log.warn({ err, pod: ref.name, container: route.container }, `${route.kind} failed`);
      await ch.finish(errorStatus(describeError(err))).catch(() => undefined);
    }
  }

  #acceptWs(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve) =>
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        // ws clears the socket's timeout when it takes the connection over: arm it again.
        this.#armIdle(socket, req.url);
        resolve(ws);
      }),
    );
  }

  /** Closes the connection after `streamIdleTimeoutMs` without a byte either way (the kubelet's idle timeout). */
  #armIdle(socket: Duplex, url: string | undefined): void {
    const idle = this.#o.streamIdleTimeoutMs ?? 4 * 3600_000;
    if (idle <= 0 || !(socket instanceof net.Socket)) return;
    socket.setTimeout(idle, () => {
      this.#o.log.info({ url, idleMs: idle }, 'closing an idle streaming connection');
      socket.destroy();
    });
  }
}

function pickProtocol(offered: Set<string>): string | false {
  for (const p of [...WS_REMOTECOMMAND, ...WS_PORTFORWARD]) if (offered.has(p)) return p;
  return false;
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `query parameter "${name}" must be a non-negative integer`);
  return n;
}

export function logOptions(q: URLSearchParams): LogOptions {
  const tail = intParam(q, 'tailLines');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  let since: Date | undefined;
  if (sinceSeconds !== undefined) since = new Date(Date.now() - sinceSeconds * 1000);
  else if (sinceTime) {
    since = new Date(sinceTime);
    if (Number.isNaN(since.getTime())) throw new HttpError(400, 'query parameter "sinceTime" must be an RFC 3339 time');
  }
  return {
    follow: truthy(q.get('follow')),
    timestamps: truthy(q.get('timestamps')),
    ...(tail !== undefined ? { tailLines: tail } : {}),
    ...(since ? { since } : {}),
  };
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Replays the upgrade request to the runtime's streaming server and splices the two connections. */
function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: string, log: Logger): void {
  const u = new URL(target);
  const upstream = net.connect({ host: u.hostname, port: Number(u.port || 80) });
  const lines = [`${req.method ?? 'GET'} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i] ?? '';
    if (k.toLowerCase() === 'host') continue;
    lines.push(`${k}: ${req.rawHeaders[i + 1] ?? ''}`);
  }
  upstream.on('connect', () => {
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (err) => {
    log.warn({ err, target: u.host }, 'runtime streaming server unreachable');
    refuseUpgrade(socket, 502, `runtime streaming server unreachable: ${err.message}`);
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}
