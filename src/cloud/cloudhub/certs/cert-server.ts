import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError } from '../../../core/errors.ts';
import { logger, type Logger } from '../../../core/log.ts';
import { GO_EXT_KEY_USAGE, certDerToPem, keyDerToPem, readCsr, signCsr, type ExtKeyUsageName, type ReadCsr, type KeyPairDer } from '../../../pki/x509.ts';
import { X509Certificate } from 'node:crypto';
import { NODE_CN_PREFIX, nodeCommonName, nodeSubject } from '../../../pki/node-identity.ts';
import type { EdgeIdentityPolicy } from '../../../pki/edge-identity.ts';
import { authorizeEdge } from './edge-auth.ts';

/** Node names become certificate CNs and `node/<id>/` routing prefixes: DNS-label-ish only. */
const NODE_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** KubeEdge's constants.MaxRespBodyLength: the most CSR bytes /edge.crt will read. */
export const MAX_CSR_BYTES = 1 << 20;

export type CertServerOptions = {
  address: string;
  port: number;
  ca: KeyPairDer;
  server: KeyPairDer;
  /** cloudHub.edgeCertSigningDuration, days (KubeEdge default 365). */
  edgeCertSigningDuration: number;
  nodeExists?: (name: string) => Promise<boolean>;
  /**
   * Rotation with a client certificate goes through the same identity rules as CloudHub's WebSocket: a shared
   * certificate only while allowed, a deleted node's certificate not at all. Without it: shared allowed.
   */
  identity?: EdgeIdentityPolicy;
  log?: Logger;
};

export type CertServer = {
  port: number;
  /** Responses by `<route> <status>`, plus `tls-error` for failed handshakes. */
  counts: ReadonlyMap<string, number>;
  close(): Promise<void>;
};

/** An HTTP failure we answer with a plain-text body; everything else becomes a 500. */
class HttpFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function parseUsages(header: string | undefined): ExtKeyUsageName[] {
  if (header === undefined || header.trim() === '') return ['clientAuth'];
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    throw new HttpFailure(400, `ExtKeyUsages header is not JSON: ${header.slice(0, 100)}`);
  }
  if (!Array.isArray(parsed)) throw new HttpFailure(400, 'ExtKeyUsages header must be a JSON array of integers');
  const usages = parsed.map((n: unknown) => {
    const name = typeof n === 'number' ? GO_EXT_KEY_USAGE[n] : undefined;
    if (name === undefined) throw new HttpFailure(400, `unsupported ExtKeyUsage ${JSON.stringify(n)} (supported: 1 serverAuth, 2 clientAuth)`);
    return name;
  });
  return usages.length === 0 ? ['clientAuth'] : [...new Set(usages)];
}

/** Reads the request body up to `limit` bytes; past that it stops buffering and fails with 413. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new HttpFailure(413, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => reject(err));
  });
}

/** Bytes of an oversized upload we swallow after answering 413, so the client gets to read the answer. */
const DRAIN_BUDGET = 16 << 20;

/**
 * Closing a socket while the peer is still sending makes the kernel reset it, and most clients then lose our
 * 413. So discard the rest of the body (bounded by DRAIN_BUDGET and the server's requestTimeout), then hang up
 * only if the client keeps going.
 */
function drainOrDrop(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BUDGET) req.socket.destroy();
  });
  req.resume();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * cloudhub's HTTPS service on 10002: hands out the CA (/ca.crt), signs edge CSRs (/edge.crt) for token holders
 * or nodes rotating their own certificate, and answers whether a node exists (/node/{name}). TLS asks for a
 * client certificate but does not require one; each route decides what it needs.
 */
export async function startCertServer(o: CertServerOptions): Promise<CertServer> {
  const log = o.log ?? logger('cloudhub-https');
  const counts = new Map<string, number>();
  const count = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  function reply(res: ServerResponse, route: string, status: number, body: Buffer | string, type: string): void {
    count(`${route} ${status}`);
    if (res.headersSent || res.writableEnded) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function edgeCrt(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const nodeName = header(req, 'NodeName') ?? '';
    const declared = Number(header(req, 'Content-Length') ?? '0');
    if (declared > MAX_CSR_BYTES) throw new HttpFailure(413, `request body exceeds ${MAX_CSR_BYTES} bytes`);
    if (!NODE_NAME_RE.test(nodeName)) throw new HttpFailure(400, `NodeName header "${nodeName.slice(0, 64)}" is not a valid node name`);
    const auth = await authorizeEdge(req.socket as TLSSocket, header(req, 'Authorization'), o.ca, nodeName);
    if (!auth.ok) throw new HttpFailure(401, `failed to verify edge node "${nodeName}": ${auth.reason}`);
    if (auth.by === 'client-cert' && o.identity !== undefined) {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.(false)?.raw;
      const v = peer instanceof Buffer ? await o.identity.check(nodeName, new X509Certificate(peer)) : undefined;
      if (v !== undefined && !v.ok) throw new HttpFailure(401, `failed to verify edge node "${nodeName}": ${v.reason}`);
    }
    const usages = parseUsages(header(req, 'ExtKeyUsages'));
    const body = await readBody(req, MAX_CSR_BYTES);
    let subjectCn: string | undefined;
    let csrSubject: string;
    let info: ReadCsr;
    try {
      info = await readCsr(body);
      csrSubject = info.subject;
      subjectCn = /(?:^|,\s*)CN=([^,]*)/.exec(info.subject)?.[1];
    } catch (err) {
      throw new HttpFailure(400, `invalid certificate request: ${describeError(err)}`);
    }
    // A certificate names the node it was asked for: a request for another node's name is refused, whoever asks.
    const wanted = nodeCommonName(nodeName);
    if (subjectCn?.startsWith(NODE_CN_PREFIX) === true && subjectCn !== wanted) {
      throw new HttpFailure(401, `certificate request CN "${subjectCn}" does not match node "${nodeName}"`);
    }
    // KubeEdge <= 1.16 edges ask for the shared CN=kubeedge.io; they get a named certificate all the same (they
    // do not look at the CN), so every certificate we issue speaks for exactly one node.
    const subject = subjectCn === wanted && /(?:^|,\s*)O=system:nodes(?:,|$)/.test(csrSubject) ? csrSubject : nodeSubject(nodeName);
    const der = await signCsr(o.ca, body, usages, o.edgeCertSigningDuration, subject, info);
    log.info({ nodeName, by: auth.by, usages, askedCn: subjectCn, subject }, 'signed edge certificate');
    reply(res, '/edge.crt', 200, der, 'application/octet-stream');
  }

  async function nodeRoute(name: string, res: ServerResponse): Promise<void> {
    if (name === '') throw new HttpFailure(400, 'node name is empty');
    const exists = o.nodeExists === undefined ? false : await o.nodeExists(name);
    if (exists) reply(res, '/node', 200, 'Node found', 'text/plain; charset=utf-8');
    else reply(res, '/node', 404, `Node ${name} not found`, 'text/plain; charset=utf-8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET') {
      req.resume();
      throw new HttpFailure(405, `${req.method ?? ''} is not allowed on ${path}`);
    }
    if (path === '/ca.crt') {
      req.resume();
      reply(res, '/ca.crt', 200, o.ca.certDer, 'application/octet-stream');
      return path;
    }
    if (path === '/edge.crt') {
      await edgeCrt(req, res);
      return path;
    }
    if (path.startsWith('/node/')) {
      req.resume();
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/node/'.length));
      } catch {
        throw new HttpFailure(400, 'node name is not valid URL encoding');
      }
      await nodeRoute(name, res);
      return '/node';
    }
    req.resume();
    throw new HttpFailure(404, `no route for ${path}`);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = path.startsWith('/node/') ? '/node' : path === '/ca.crt' || path === '/edge.crt' ? path : 'other';
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpFailure ? err.status : 500;
      const message = err instanceof HttpFailure ? err.message : `internal error: ${describeError(err)}`;
      log.warn({ route, status, remote: req.socket.remoteAddress, nodeName: header(req, 'NodeName'), err: message }, 'request rejected');
      if (status === 413) drainOrDrop(req);
      reply(res, route, status, message, 'text/plain; charset=utf-8');
    });
  }

  const server: Server = createServer(
    {
      cert: certDerToPem(o.server.certDer),
      key: keyDerToPem(o.server.keyDer),
      ca: [certDerToPem(o.ca.certDer)],
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
      requestTimeout: 60_000,
      headersTimeout: 30_000,
    },
    onRequest,
  );
  server.on('tlsClientError', (err, socket) => {
    count('tls-error');
    log.debug({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
  });
  server.on('clientError', (err, socket) => {
    count('client-error');
    log.debug({ err: err.message }, 'bad HTTP request');
    socket.destroy();
  });

  // events.once rejects if 'error' (e.g. EADDRINUSE) comes first.
  server.listen(o.port, o.address);
  await once(server, 'listening');
  server.on('error', (err) => log.error({ err: err.message }, 'cert server error'));
  const port = (server.address() as AddressInfo).port;
  log.info({ address: o.address, port }, 'cloudhub HTTPS certificate service listening');

  return {
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
