/**
 * The direct node-to-node link: a TLS server on `<bind>:listenPort` that asks for and verifies the dialling
 * node's certificate (signed by the cluster CA, the edge's own certificate from edgeHub's files), then serves the
 * target named in the first line.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { KubeEdgeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import { parseRequest, readLine } from './protocol.ts';
import { type ServeStats, type TargetCheck, serveTarget } from './serve.ts';

/** The peer port (modules.edgeMesh.listenPort) cannot be bound: one line with the fix. */
export class PeerListenError extends KubeEdgeError {
  constructor(host: string, port: number, err: NodeJS.ErrnoException) {
    const why = err.code === 'EADDRINUSE' ? 'in use by another process' : (err.code ?? err.message);
    super(
      'KE_EDGEMESH_PEER_LISTEN',
      `modules.edgeMesh.listenPort ${port} on ${host}: ${why}; stop what listens there (ss -ltnp 'sport = :${port}') or set another listenPort (each edge on a host needs its own)`,
      { host, port, code: err.code },
      { cause: err },
    );
  }
}

export type PeerCredentials = { ca: Buffer; cert: Buffer; key: Buffer };

export class PeerServer {
  readonly stats: ServeStats = { served: 0, refused: 0, malformed: 0 };
  #server: tls.Server;
  #isLocal: TargetCheck;
  #log: Logger | undefined;

  #advertise: (() => string) | undefined;

  constructor(creds: PeerCredentials, isLocal: TargetCheck, log?: Logger, advertise?: () => string) {
    this.#isLocal = isLocal;
    this.#advertise = advertise;
    this.#log = log;
    this.#server = tls.createServer({ ...creds, requestCert: true, rejectUnauthorized: true, allowHalfOpen: true }, (s) => void this.#onConn(s));
    this.#server.on('tlsClientError', (err) => {
      this.stats.malformed++;
      this.#log?.debug({ err }, 'EdgeMesh peer TLS handshake failed');
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) => reject(new PeerListenError(host, port, err)));
      this.#server.listen({ host, port }, () => {
        this.#server.removeAllListeners('error');
        this.#server.on('error', (err) => this.#log?.warn({ err }, 'EdgeMesh peer server error'));
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #onConn(s: tls.TLSSocket): Promise<void> {
    s.on('error', () => {});
    try {
      const req = parseRequest(await readLine(s));
      await serveTarget(s, req.target, req.from, this.#isLocal, this.stats, this.#log, this.#advertise?.());
    } catch (err) {
      this.stats.malformed++;
      this.#log?.warn({ err, peer: s.remoteAddress }, 'EdgeMesh peer sent no valid first line; closed');
      s.destroy();
    }
  }
}
