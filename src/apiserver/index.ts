import { once } from 'node:events';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { describeError } from '../core/errors.ts';
import { logger, type Logger } from '../core/log.ts';
import { loadOrCreateToken, writeKubeConfig } from './auth.ts';
import { KUBE_VERSION, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import { installServiceAccountAdmission } from './admission/serviceaccount.ts';
import { installCrdSupport } from './crd/hooks.ts';
import { Engine } from './engine.ts';
import { installValidation } from './validation/hooks.ts';
import { installPdbStatus } from './workloads/pdb.ts';
import { parseBody, readBody, sendError, sendJson } from './handlers/http.ts';
import { handleResource } from './handlers/resource.ts';
import { isMetricsResource } from './metrics/resources.ts';
import { metricsMethodNotAllowed, serveMetrics } from './metrics/serve.ts';
import type { MetricsProvider } from './metrics/types.ts';
import { openApiForPath, openApiIndex, openApiV2, openApiV2Protobuf } from './openapi.ts';
import { observeApiRequest } from './request-metrics.ts';
import { route } from './router.ts';
import { startSecurity } from './security.ts';
import { ApiError, notFoundPath, unauthorized } from './status.ts';
import { type KubeletProxy, kubeletTarget, POD_STREAM_SUBRESOURCES } from './pod-streams.ts';
import type { Route } from './router.ts';
import { Store } from './store.ts';
import { servingTls } from './tls.ts';
import { answerClientError, requestUrl } from './client-error.ts';

export type ApiServerOptions = {
  address: string;
  port: number;
  dataDir: string;
  adminKubeConfig: string;
  log?: Logger;
  /** The edges' last usage samples, served as metrics.k8s.io/v1beta1 (`kubectl top`); none: empty lists. */
  metrics?: MetricsProvider;
  /** Serves pods/log, exec, attach, portforward through the node's kubelet API; absent = those answer 503. */
  kubeletProxy?: KubeletProxy;
  /**
   * Also serve plain HTTP on a Unix socket at this path (mode 0600, the same authentication and authorization),
   * for the process that embeds the server: its own requests then skip TLS on both ends. Not for watches or
   * pod streams (those stay on HTTPS). Ignored when the path is too long for a socket address.
   */
  localSocket?: string;
};
export type RunningApiServer = {
  url: string;
  caPem: string;
  kubeConfigPath: string;
  /** A kubeconfig for cloudcore's least-privilege ServiceAccount (kubeedge/cloudcore, ClusterRole cloudcore), beside the admin one. */
  cloudcoreKubeConfigPath: string;
  /** The Unix socket serving the same API (see `localSocket`), when it is listening. */
  localSocketPath?: string;
  close(): Promise<void>;
};

function hostForUrl(address: string): string {
  const host = address === '' || address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the embedded Kubernetes-compatible API server: HTTPS with its own CA in dataDir, bearer-token auth,
 * SQLite storage, and an admin kubeconfig written to `adminKubeConfig`. Port 0 picks a free port.
 *
 * @example
 * const api = await startApiServer({ address: '127.0.0.1', port: 0, dataDir, adminKubeConfig: `${dataDir}/admin.conf` });
 * // kubectl --kubeconfig admin.conf get nodes
 * await api.close();
 */
export async function startApiServer(o: ApiServerOptions): Promise<RunningApiServer> {
  const log = o.log ?? logger('apiserver');
  await mkdir(o.dataDir, { recursive: true });
  const tls = await servingTls(o.dataDir, o.address);
  const token = await loadOrCreateToken(o.dataDir);
  const store = new Store(join(o.dataDir, 'apiserver.db'), log);
  const engine = new Engine(store);
  installCrdSupport(engine);
  installServiceAccountAdmission(engine);
  installValidation(engine);
  const stopPdbStatus = installPdbStatus(engine, (err) => log.warn({ err }, 'PodDisruptionBudget status refresh failed'));
  engine.bootstrap();
  const security = await startSecurity(o.dataDir, token, engine);
  let serverAddress = '';
  const stats = { requests: 0, rejected: 0, errors: 0 };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++;
    observeApiRequest(req, res);
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ApiError) {
        if (err.httpCode >= 400 && err.httpCode < 500) stats.rejected++;
        if (err.httpCode === 413) {
          res.setHeader('Connection', 'close');
          req.resume();
        }
        sendError(res, err);
        return;
      }
      stats.errors++;
      log.error({ err, method: req.method, url: req.url }, 'request failed');
      sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${describeError(err)}`));
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (/^\/(healthz|livez|readyz)(\/|$)/.test(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/version') return sendJson(res, 200, KUBE_VERSION);
    const user = security.authenticate(req);
    if (user === undefined) {
      log.debug({ url: req.url }, 'unauthorized request');
      req.resume();
      throw unauthorized();
    }
    const method = req.method ?? 'GET';
    const r = route(path, engine.resources.all());
    const special = security.special(path, method, r);
    try {
      security.authorize(user, method, path, r, url.searchParams, special);
    } catch (err) {
      req.resume();
      throw err;
    }
    if (r.type === 'unknown' && special === undefined && !path.startsWith('/openapi/v3') && path !== '/openapi/v2') {
      req.resume();
      throw notFoundPath();
    }
    if (r.type === 'resource' && isPodStream(r)) {
      req.resume();
      if (req.headers.upgrade !== undefined) throw new ApiError(400, 'BadRequest', 'upgrade requests are served on the upgrade path');
      if (r.sub !== 'log') throw new ApiError(400, 'BadRequest', 'Upgrade request required');
      const { node, path: kpath } = kubeletTarget(engine.get(r.def, r.namespace, r.name ?? ''), r.sub, url.searchParams);
      if (o.kubeletProxy === undefined) throw new ApiError(503, 'ServiceUnavailable', 'no stream path to edge nodes (cloudStream is disabled)');
      o.kubeletProxy.request(node, kpath, req, res);
      return;
    }
    const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
    const body = hasBody ? parseBody(await readBody(req), req.headers['content-type']) : undefined;
    if (!hasBody) req.resume();
    if (special !== undefined) return security.serve(special, user, method, body, res);
    if (path === '/openapi/v2') {
      if (!/json|\*\/\*/.test(req.headers.accept ?? '*/*')) {
        const pb = openApiV2Protobuf();
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': pb.length });
        res.end(pb);
        return;
      }
      return sendJson(res, 200, openApiV2(engine.resources.all()));
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openApiIndex(engine.resources.all()));
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiForPath(path.slice('/openapi/v3/'.length), engine.resources.all());
      if (doc === undefined) throw notFoundPath();
      return sendJson(res, 200, doc);
    }
    switch (r.type) {
      case 'api':
        return sendJson(res, 200, apiVersions(serverAddress));
      case 'apis':
        return sendJson(res, 200, apiGroupList(engine.resources.all()));
      case 'group': {
        const g = (apiGroupList(engine.resources.all())['groups'] as { name: string }[]).find((x) => x.name === r.group);
        return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
      }
      case 'groupVersion': {
        const list = apiResourceList(r.group, r.version, engine.resources.all());
        if (list === undefined) throw notFoundPath();
        return sendJson(res, 200, list);
      }
      case 'resource':
        if (isMetricsResource(r.def)) {
          if (method !== 'GET') throw metricsMethodNotAllowed(method);
          return serveMetrics({
            res,
            engine,
            def: r.def,
            ...(r.namespace === undefined ? {} : { namespace: r.namespace }),
            ...(r.name === undefined ? {} : { name: r.name }),
            query: url.searchParams,
            provider: o.metrics,
            ...(req.headers.accept !== undefined ? { accept: req.headers.accept } : {}),
          });
        }
        return handleResource({
          req,
          res,
          engine,
          def: r.def,
          ...(r.namespace === undefined ? {} : { namespace: r.namespace }),
          ...(r.name === undefined ? {} : { name: r.name }),
          ...(r.sub === undefined ? {} : { sub: r.sub }),
          watchPath: r.watchPath,
          query: url.searchParams,
          body,
        });
      default:
        throw notFoundPath();
    }
  };

  // Client certificates are asked for, not required: one signed by the CA authenticates its CN/O.
  const server: Server = createServer(
    { cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: false, requestTimeout: 0 },
    handler,
  );
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
  // exec, attach and portforward: WebSocket (GET) or SPDY (POST) upgrades, authorized as `create` on the
  // subresource whatever the method (kube-apiserver 1.31+), then handed to the node's kubelet as bytes.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    stats.requests++;
    try {
      const url = new URL(req.url ?? '/', 'https://apiserver.invalid');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const user = security.authenticate(req);
      if (user === undefined) throw unauthorized();
      const r = route(path, engine.resources.all());
      if (r.type !== 'resource' || !isPodStream(r)) throw notFoundPath();
      security.authorize(user, POD_STREAM_SUBRESOURCES[r.sub ?? ''] === 'create' ? 'POST' : 'GET', path, r, url.searchParams, undefined);
      const { node, path: kpath } = kubeletTarget(engine.get(r.def, r.namespace, r.name ?? ''), r.sub ?? '', url.searchParams);
      if (o.kubeletProxy === undefined) throw new ApiError(503, 'ServiceUnavailable', 'no stream path to edge nodes (cloudStream is disabled)');
      o.kubeletProxy.upgrade(node, kpath, req, socket, head);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${describeError(err)}`);
      if (e.httpCode >= 400 && e.httpCode < 500) stats.rejected++;
      const body = JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: e.message,
        reason: e.reason,
        code: e.httpCode,
      });
      socket.end(
        `HTTP/1.1 ${e.httpCode} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  });
  server.on('clientError', (err, socket) => {
    log.debug({ err }, 'bad HTTP request');
    answerClientError(err, socket);
  });
  // events.once rejects if 'error' (e.g. EADDRINUSE) comes first.
  server.listen(o.port, o.address);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const host = hostForUrl(o.address);
  serverAddress = `${host}:${port}`;
  const url = `https://${host}:${port}`;
  await writeKubeConfig(o.adminKubeConfig, url, tls.caPem, token);
  const cloudcoreKubeConfigPath = join(dirname(o.adminKubeConfig), 'cloudcore.conf');
  await security.writeCloudcoreKubeConfig(cloudcoreKubeConfigPath, url, tls.caPem);
  log.info({ url, kubeconfig: o.adminKubeConfig, resourceVersion: store.currentRv }, 'embedded API server listening');

  const local = o.localSocket === undefined ? undefined : await listenLocal(o.localSocket, handler, sockets, log);

  let closing: Promise<void> | undefined;
  return {
    url,
    caPem: tls.caPem,
    kubeConfigPath: o.adminKubeConfig,
    cloudcoreKubeConfigPath,
    ...(local === undefined ? {} : { localSocketPath: o.localSocket }),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        local?.close();
        server.close(() => {
          stopPdbStatus();
          store.close();
          log.info(stats, 'embedded API server stopped');
          resolve();
        });
        // Watches are long-lived: end them so close() does not wait for their timeouts.
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Plain HTTP on a Unix socket only the owner can open; undefined (and a debug line) when it cannot listen. */
async function listenLocal(
  path: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  sockets: Set<Socket>,
  log: Logger,
): Promise<HttpServer | undefined> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    log.debug({ path }, 'local API socket path too long; the embedding process uses HTTPS');
    return undefined;
  }
  await rm(path, { force: true }); // a socket left by a process that did not exit cleanly
  const local = createHttpServer({ requestTimeout: 0 }, handler);
  local.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  local.on('clientError', (err, socket) => answerClientError(err, socket));
  try {
    const prev = process.umask(0o177); // created 0600: no window in which others could connect
    try {
      local.listen(path);
    } finally {
      process.umask(prev);
    }
    await once(local, 'listening');
    await chmod(path, 0o600);
  } catch (err) {
    log.warn({ path, err }, 'cannot listen on the local API socket; the embedding process uses HTTPS');
    local.close();
    return undefined;
  }
  return local;
}

function isPodStream(r: Extract<Route, { type: 'resource' }>): boolean {
  return r.def.group === '' && r.def.plural === 'pods' && r.name !== undefined && r.sub !== undefined && r.sub in POD_STREAM_SUBRESOURCES;
}
