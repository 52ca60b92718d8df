import * as http from 'node:http';
import * as https from 'node:https';
import { KubeEdgeError } from '../core/errors.ts';
import { cloudMetrics } from '../metrics/cloud.ts';
import type { k8s } from './client.ts';

/**
 * A Kubernetes API error with the server's `Status` body. `status` is what KubeEdge forwards to the edge as
 * `{"ErrStatus": status}`.
 */
export class KubeApiError extends KubeEdgeError {
  readonly statusCode: number;
  readonly status: Record<string, unknown>;
  constructor(method: string, path: string, statusCode: number, status: Record<string, unknown>) {
    const msg = typeof status['message'] === 'string' ? status['message'] : `HTTP ${statusCode}`;
    super('KE_KUBE_API', `${method} ${path}: ${msg}`, { method, path, statusCode });
    this.statusCode = statusCode;
    this.status = status;
  }
  get reason(): string {
    return typeof this.status['reason'] === 'string' ? this.status['reason'] : '';
  }
}

/** Concurrent connections to the API server; more requests wait in the agent's queue. */
const MAX_SOCKETS = 64;

export type PatchType = 'strategic' | 'merge' | 'json';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
};

/**
 * JSON over HTTPS to the API server, with authentication and TLS taken from a client-node KubeConfig.
 * Objects stay exactly as the server wrote them: client-node's typed models turn timestamps into Dates
 * (losing a Lease's microseconds) and rename fields such as `daemonEndpoints.kubeletEndpoint.Port`, and
 * the edge must receive what the API server holds, byte for byte in meaning.
 */
export class KubeRest {
  readonly #kc: k8s.KubeConfig;
  readonly #base: URL;
  readonly #socketPath: string | undefined;
  #agent: http.Agent | undefined;

  /**
   * `socketPath`: the embedded API server's Unix socket (same API, plain HTTP): cloudcore's own requests then
   * skip TLS on both ends of what is a call within one process. The kubeconfig still supplies the credentials.
   */
  constructor(kc: k8s.KubeConfig, o: { socketPath?: string } = {}) {
    this.#kc = kc;
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new KubeEdgeError('KE_KUBECONFIG', 'kubeconfig has no current cluster');
    this.#base = new URL(cluster.server);
    this.#socketPath = o.socketPath;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  create<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  replace<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  patch<T = KubeObject>(path: string, body: unknown, type: PatchType): Promise<T> {
    return this.request<T>('PATCH', path, body, PATCH_CONTENT_TYPE[type]);
  }
  delete<T = KubeObject>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body);
  }

  close(): void {
    this.#agent?.destroy();
  }

  /**
   * One keep-alive agent with a bounded socket count for every request. client-node's applyToHTTPSOptions
   * hands back a new Agent on each call, which would open a new TLS connection per request and, under load,
   * thousands of sockets; its TLS material is taken once and reused here.
   */
  #agentFor(opts: https.RequestOptions): http.Agent {
    this.#agent ??=
      this.#base.protocol === 'https:' && this.#socketPath === undefined
        ? new https.Agent({
            keepAlive: true,
            maxSockets: MAX_SOCKETS,
            ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
            ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
            ...(opts.key !== undefined ? { key: opts.key } : {}),
            ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
            ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
    return this.#agent;
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const opts: https.RequestOptions = {
      method,
      protocol: this.#base.protocol,
      hostname: this.#base.hostname,
      port: this.#base.port,
      path: this.#base.pathname.replace(/\/$/, '') + path,
      headers: { Accept: 'application/json' },
    };
    await this.#kc.applyToHTTPSOptions(opts);
    const local = this.#socketPath !== undefined;
    if (local) {
      // Only the credentials carry over: no host, port or TLS material on a Unix socket.
      const { headers, method: m, path: p } = opts;
      for (const k of Object.keys(opts)) delete (opts as Record<string, unknown>)[k];
      Object.assign(opts, { headers, method: m, path: p, socketPath: this.#socketPath });
    }
    opts.agent = this.#agentFor(opts);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) {
      opts.headers = { ...opts.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) };
    }
    const mod = this.#base.protocol === 'https:' && !local ? https : http;
    const timer = cloudMetrics.kubeClientRequests.startTimer({ verb: method });
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            parsed = { kind: 'Status', status: 'Failure', message: text.slice(0, 500), code: res.statusCode };
          }
          const code = res.statusCode ?? 0;
          timer({ code: String(code) });
          if (code >= 200 && code < 300) resolve(parsed as T);
          else reject(new KubeApiError(method, path, code, asStatus(parsed, code)));
        });
      });
      req.setTimeout(60_000, () => req.destroy(new KubeEdgeError('KE_KUBE_TIMEOUT', `${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function asStatus(parsed: unknown, code: number): Record<string, unknown> {
  if (typeof parsed === 'object' && parsed !== null && (parsed as { kind?: unknown }).kind === 'Status') {
    return parsed as Record<string, unknown>;
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `HTTP ${code}`, code };
}

/** KubeEdge sends Go errors as `{"ErrStatus": <Status without kind/apiVersion>}`. */
export function goStatusError(err: unknown): { ErrStatus: Record<string, unknown> } {
  if (err instanceof KubeApiError) {
    const { kind: _k, apiVersion: _a, ...rest } = err.status;
    return { ErrStatus: { metadata: {}, ...rest } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { ErrStatus: { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 } };
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === 'AlreadyExists';
}

const enc = encodeURIComponent;
/** REST paths for the resources the controllers use. */
export const paths = {
  nodes: () => '/api/v1/nodes',
  node: (name: string) => `/api/v1/nodes/${enc(name)}`,
  nodeStatus: (name: string) => `/api/v1/nodes/${enc(name)}/status`,
  namespaces: () => '/api/v1/namespaces',
  namespaced: (ns: string, plural: string, name?: string, sub?: string) =>
    `/api/v1/namespaces/${enc(ns)}/${plural}${name === undefined ? '' : `/${enc(name)}`}${sub === undefined ? '' : `/${sub}`}`,
  leases: (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`,
  lease: (ns: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases/${enc(name)}`,
};
