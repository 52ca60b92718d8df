import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeK8sProtobuf } from '../protobuf.ts';
import { ApiError, badRequest, unsupportedMediaType } from '../status.ts';

export const MAX_BODY = 3 * 1024 * 1024;

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.httpCode, err.toStatus());
}

/** Reads the whole body, refusing more than MAX_BODY bytes with 413 (the connection is then closed). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY) {
      reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is too large: limit is ${MAX_BODY} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY) {
        done = true;
        reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is too large: limit is ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

/** JSON (or YAML for apply-patch+yaml) body; an empty body is `undefined`. */
export function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  if (buf.length === 0) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  // kubectl sends a few built-in kinds as protobuf; CBOR is not spoken here.
  if (ct.includes('protobuf')) return decodeK8sProtobuf(buf, ct);
  if (ct.includes('cbor')) throw unsupportedMediaType(ct);
  const text = buf.toString('utf8');
  if (ct.includes('yaml')) {
    try {
      return parseYaml(text) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${String(err)}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`error decoding request body: ${(err as Error).message}`);
  }
}
