/**
 * A stand-in for EdgeMesh's store (contract C4) that a test fills by hand: the proxy, the peer link and the
 * relay read only `services()`, `service()`, `endpoints()` and the 'change' event.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyEndpoint, ProxyService } from '../../src/edge/edgemesh/proxy/types.ts';

export class HandStore extends EventEmitter {
  #svcs = new Map<string, ProxyService>();
  #eps = new Map<string, ProxyEndpoint[]>();
  services(): ProxyService[] {
    return [...this.#svcs.values()];
  }
  service(ns: string, name: string): ProxyService | undefined {
    return this.#svcs.get(`${ns}/${name}`);
  }
  endpoints(ns: string, name: string): ProxyEndpoint[] {
    return this.#eps.get(`${ns}/${name}`) ?? [];
  }
  set(svc: ProxyService, eps: ProxyEndpoint[]): void {
    this.#svcs.set(`${svc.namespace}/${svc.name}`, svc);
    this.#eps.set(`${svc.namespace}/${svc.name}`, eps);
    this.emit('change', svc.namespace, svc.name);
  }
  setEndpoints(ns: string, name: string, eps: ProxyEndpoint[]): void {
    this.#eps.set(`${ns}/${name}`, eps);
    this.emit('change', ns, name);
  }
}

export function webService(over: Partial<ProxyService> = {}): ProxyService {
  return { namespace: 'default', name: 'web', headless: false, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], sessionAffinity: 'None', ...over };
}

export function endpoint(ip: string, port: number, nodeName?: string): ProxyEndpoint {
  return { ip, ready: true, ports: [{ name: 'http', port, protocol: 'TCP' }], ...(nodeName !== undefined ? { nodeName } : {}) };
}

/** An HTTP server that answers every request with its name, like the httpd pods. */
export async function nameServer(name: string, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer((_req, res) => res.end(`${name}\n`));
  await new Promise<void>((r) => srv.listen(0, host, r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

export function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', reject);
  });
}
