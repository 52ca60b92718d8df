import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import YAML from 'yaml';

export type ApiResponse<T = unknown> = { status: number; body: T; ms: number };

type KubeConfigFile = {
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }>;
  users?: Array<{ name: string; user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
};

const b64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/**
 * A small REST client for the Kubernetes API, as kubectl talks to it: bearer token or client certificate from a
 * kubeconfig, JSON bodies, keep-alive connections. It reports the status instead of throwing, so the benchmark can
 * count errors; only network failures reject.
 */
export class Api {
  readonly base: URL;
  readonly #agent: http.Agent;
  readonly #headers: Record<string, string> = {};
  readonly #tls: https.RequestOptions = {};

  constructor(kubeconfigPath: string, maxSockets = 16) {
    const kc = YAML.parse(readFileSync(kubeconfigPath, 'utf8')) as KubeConfigFile;
    const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
    const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? kc.clusters?.[0];
    const user = kc.users?.find((u) => u.name === ctx?.context.user) ?? kc.users?.[0];
    if (cluster === undefined) throw new Error(`${kubeconfigPath}: no cluster`);
    this.base = new URL(cluster.cluster.server);
    const ca = b64(cluster.cluster['certificate-authority-data']);
    if (ca !== undefined) this.#tls.ca = ca;
    const cert = b64(user?.user['client-certificate-data']);
    const key = b64(user?.user['client-key-data']);
    if (cert !== undefined && key !== undefined) Object.assign(this.#tls, { cert, key });
    if (user?.user.token !== undefined) this.#headers['Authorization'] = `Bearer ${user.user.token}`;
    this.#agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets, ...(this.#tls as https.AgentOptions) })
        : new http.Agent({ keepAlive: true, maxSockets });
  }

  request<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<ApiResponse<T>> {
    const started = performance.now();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const mod = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        new URL(path, this.base),
        {
          method,
          agent: this.#agent,
          headers: {
            Accept: 'application/json',
            'User-Agent': 'kubeedge-ts-bench',
            ...this.#headers,
            ...(payload !== undefined ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, ms: performance.now() - started });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * A watch stream (`?watch=true`), newline-delimited events handed to `onEvent` with their arrival time.
   * Resolves a stopper; the stream re-opens from the last resourceVersion if the server ends it.
   */
  watch(path: string, onEvent: (type: string, obj: any, at: number) => void, onError: (err: Error) => void = () => {}): { stop(): void } {
    let stopped = false;
    let current: http.ClientRequest | undefined;
    let rv = '';
    const mod = this.base.protocol === 'https:' ? https : http;
    const open = (): void => {
      if (stopped) return;
      const sep = path.includes('?') ? '&' : '?';
      let again = false;
      // One re-open per stream, whichever of error/close comes first.
      const reopen = (ms: number): void => {
        if (again || stopped) return;
        again = true;
        setTimeout(open, ms);
      };
      const url = new URL(`${path}${sep}watch=true&allowWatchBookmarks=true&timeoutSeconds=3600${rv !== '' ? `&resourceVersion=${rv}` : ''}`, this.base);
      // A watch holds its socket for good: give it its own connection, not one from the request pool.
      current = mod.request(url, { method: 'GET', headers: { Accept: 'application/json', ...this.#headers }, ...this.#tls, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          if (res.statusCode === 410) rv = '';
          onError(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          reopen(500);
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.timeOrigin + performance.now();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === '') continue;
            try {
              const ev = JSON.parse(line) as { type: string; object: any };
              const v = ev.object?.metadata?.resourceVersion;
              if (ev.type === 'ERROR') {
                // e.g. 410 Gone: our resourceVersion is too old; start over with a fresh list.
                if (ev.object?.code === 410) rv = '';
                onError(new Error(`watch ${path}: ${ev.object?.message ?? 'ERROR event'}`));
                continue;
              }
              if (typeof v === 'string') rv = v;
              if (ev.type !== 'BOOKMARK') onEvent(ev.type, ev.object, at);
            } catch (err) {
              onError(err as Error);
            }
          }
        });
        // 'close' comes in every case, also when the server dies mid-stream (then 'end' never does).
        res.on('close', () => reopen(100));
        res.on('error', () => undefined);
      });
      current.on('error', (err) => {
        if (stopped) return;
        onError(err);
        reopen(500);
      });
      current.end();
    };
    open();
    return {
      stop: () => {
        stopped = true;
        current?.destroy();
      },
    };
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
