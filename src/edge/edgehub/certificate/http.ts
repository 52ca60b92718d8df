import { request } from 'node:https';
import { CLOUD_REJECTED, CLOUD_UNREACHABLE, EdgeCertError } from './errors.ts';

export type CloudGet = {
  url: string;
  /** PEM of the CA to verify the cloud with; undefined = no verification (only for /ca.crt, pinned by the token). */
  caPem: string | undefined;
  headers?: Record<string, string>;
  /** Sent with the GET, as KubeEdge does for /edge.crt (fetch cannot send a GET body). */
  body?: Buffer;
  clientCert?: { certPem: string; keyPem: string };
  signal?: AbortSignal;
  timeoutMs?: number;
  maxResponseBytes?: number;
};

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE = 1 << 20;

/** One GET to the cloud's 10002 service. Resolves only on 200; HTTP errors reject with CLOUD_REJECTED. */
export function cloudGet(o: CloudGet): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch (err) {
      reject(new EdgeCertError(CLOUD_UNREACHABLE, `httpServer URL is invalid: ${o.url}`, { url: o.url }, err));
      return;
    }
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers['Content-Length'] = String(o.body.length);
    const req = request(url, {
      method: 'GET',
      headers,
      minVersion: 'TLSv1.2',
      ...(o.caPem === undefined ? { rejectUnauthorized: false } : { ca: o.caPem, rejectUnauthorized: true }),
      ...(o.clientCert === undefined ? {} : { cert: o.clientCert.certPem, key: o.clientCert.keyPem }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      timeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      agent: false,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
    req.on('error', (err) => {
      reject(o.signal?.aborted === true ? err : new EdgeCertError(CLOUD_UNREACHABLE, `GET ${o.url} failed`, { url: o.url }, err));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const limit = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          res.destroy(new Error(`response exceeds ${limit} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', (err) => reject(new EdgeCertError(CLOUD_UNREACHABLE, `GET ${o.url} failed`, { url: o.url }, err)));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status === 200) {
          resolve(body);
          return;
        }
        const text = body.toString('utf8').slice(0, 500).trim();
        reject(new EdgeCertError(CLOUD_REJECTED, `GET ${o.url}: HTTP ${status}: ${text}`, { url: o.url, status, body: text }));
      });
    });
    req.end(o.body);
  });
}
