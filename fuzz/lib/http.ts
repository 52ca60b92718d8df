// A bare HTTPS client for the fuzz targets: it sends exactly what it is given (no validation, no retries) and
// reads a bounded answer, so a streaming reply (a watch) is cut after `streamMs` instead of being waited out.
import { type Agent, request } from 'node:https';

export type RawReply = { status: number; body: string };

export function rawHttps(
  o: { host: string; port: number; ca: string; agent?: Agent; cert?: string; key?: string },
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string | undefined,
  streamMs = 300,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: o.host,
        port: o.port,
        method,
        path,
        // Node sends a GET/DELETE body without framing unless told its length; the server would read it as the
        // next request (a client bug, not the server's).
        headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        ca: o.ca,
        ...(o.cert !== undefined ? { cert: o.cert, key: o.key } : {}),
        ...(o.agent !== undefined ? { agent: o.agent } : {}),
      },
      (res) => {
        let text = '';
        const timer = setTimeout(() => {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, body: text });
        }, streamMs);
        res.on('data', (d: Buffer) => {
          if (text.length < 1 << 16) text += d.toString();
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: text });
        });
        res.on('error', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
