import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';

export type MetricsServer = { address: AddressInfo; close(): Promise<void> };

export type MetricsServerOptions = { bindAddress: string; registry: Registry; log: Logger };

/** `host:port` as KubeEdge's monitorServer writes it; `[::1]:9091` and `:9091` (all interfaces) too. */
export function splitBindAddress(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':');
  const rawHost = bind.slice(0, i);
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  return { host: host === '' ? '0.0.0.0' : host, port: Number(bind.slice(i + 1)) };
}

/**
 * Plain HTTP on `bindAddress` with `/metrics` (Prometheus text of the daemon's registry) and `/healthz`, as
 * KubeEdge's monitor server; port 0 takes a free port (the bound address is logged and returned).
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = splitBindAddress(o.bindAddress);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    o.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': o.registry.contentType }).end(text);
      },
      (err: unknown) => {
        o.log.warn({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('collecting metrics failed\n');
      },
    );
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  o.log.info({ address: address.address, port: address.port }, 'metrics server listening');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The daemon's metrics endpoint, started beside its modules. A port that is taken costs the metrics, not the
 * daemon: KubeEdge's monitor server also only logs its listen error.
 */
export async function startMetricsServerOrWarn(o: MetricsServerOptions): Promise<MetricsServer | undefined> {
  try {
    return await startMetricsServer(o);
  } catch (err) {
    o.log.warn({ err, bindAddress: o.bindAddress }, 'metrics server not started; the daemon runs without /metrics');
    return undefined;
  }
}
