/**
 * Reaching a backend on another edge node. First the direct link (TLS to the node's EdgeMesh peer port); when
 * the node cannot be reached that way (NAT, firewall, unknown address) the cloud relay (a stream on our mesh
 * tunnel to CloudStream, which forwards it to that node's mesh tunnel). A node whose direct link failed is sent
 * through the relay for a while before the direct link is tried again. An `ERR` answer means the node was reached
 * but the pod was not: that is the backend's failure, and it is not retried over the relay.
 */
import { X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { describeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import { CONNECT_TIMEOUT_MS, MeshDialError, type RemoteDialer, TargetRefusedError } from '../proxy/dial.ts';
import { parseTarget, readLine } from './protocol.ts';
import type { PeerCredentials } from './server.ts';

export const DIRECT_RETRY_MS = 60_000;
const NODE_CN_PREFIX = 'system:node:';

/** The relay side of the mesh tunnel (contract C3's TunnelSession.open). */
export type MeshTunnel = { open(header: { kind: string; [key: string]: unknown }): Duplex };
/** Where a node's EdgeMesh peer port is, when known. */
export type PeerAddresses = (node: string) => { host: string; port: number } | undefined;

export type PeerDialerOptions = {
  nodeName: string;
  /** Read at each dial: the edge's certificate may arrive (or rotate) after EdgeMesh started. */
  creds: () => PeerCredentials | undefined;
  addresses: PeerAddresses;
  tunnel: () => MeshTunnel | undefined;
  now?: () => number;
  log?: Logger;
};

export class PeerDialer implements RemoteDialer {
  readonly stats = { direct: 0, relayed: 0, failed: 0 };
  #o: PeerDialerOptions;
  #directDown = new Map<string, number>();
  /** Peer addresses the nodes told us on their `OK` lines. */
  #learnt = new Map<string, { host: string; port: number }>();

  constructor(o: PeerDialerOptions) {
    this.#o = o;
  }

  async dial(node: string, target: string): Promise<Duplex> {
    const now = (this.#o.now ?? Date.now)();
    const creds = this.#o.creds();
    const addr = creds === undefined ? undefined : (this.#o.addresses(node) ?? this.#learnt.get(node));
    const down = this.#directDown.get(node);
    if (addr !== undefined && (down === undefined || down <= now)) {
      try {
        const s = await this.#direct(node, addr, target, creds as PeerCredentials);
        this.#directDown.delete(node);
        this.stats.direct++;
        return s;
      } catch (err) {
        if (err instanceof TargetRefusedError) {
          this.stats.failed++;
          throw err;
        }
        this.#directDown.set(node, now + DIRECT_RETRY_MS);
        this.#o.log?.info({ err, node }, 'EdgeMesh direct link to node failed; relaying through the cloud');
      }
    }
    try {
      const s = await this.#relay(node, target);
      this.stats.relayed++;
      return s;
    } catch (err) {
      this.stats.failed++;
      throw err;
    }
  }

  async #direct(node: string, addr: { host: string; port: number }, target: string, creds: PeerCredentials): Promise<Duplex> {
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      // Edge certificates carry clientAuth only, which OpenSSL refuses as a server certificate: the chain, the
      // validity and the node name are checked here instead, once the handshake is done.
      const sock = tls.connect({ host: addr.host, port: addr.port, ...creds, rejectUnauthorized: false });
      const t = setTimeout(() => {
        sock.destroy();
        reject(new MeshDialError(`${node} ${addr.host}:${addr.port}`, `no TLS handshake in ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      sock.once('secureConnect', () => {
        clearTimeout(t);
        const why = checkPeer(sock, node, creds.ca);
        if (why !== undefined) {
          sock.destroy();
          reject(new MeshDialError(`${node} ${addr.host}:${addr.port}`, why));
        } else resolve(sock);
      });
      sock.once('error', (err) => {
        clearTimeout(t);
        reject(new MeshDialError(`${node} ${addr.host}:${addr.port}`, describeError(err), {}, err));
      });
    });
    s.write(`${JSON.stringify({ target, protocol: 'tcp', from: this.#o.nodeName })}\n`);
    return this.#awaitOk(s, node, target);
  }

  async #relay(node: string, target: string): Promise<Duplex> {
    const tunnel = this.#o.tunnel();
    if (tunnel === undefined) throw new MeshDialError(`${target} on ${node}`, 'no direct link and no cloud relay (mesh tunnel not connected)');
    const s = tunnel.open({ kind: 'relay', node, target, protocol: 'tcp' });
    return this.#awaitOk(s, node, target);
  }

  async #awaitOk(s: Duplex, node: string, target: string): Promise<Duplex> {
    s.on('error', () => {});
    let line: string;
    try {
      line = await readLine(s, CONNECT_TIMEOUT_MS * 2);
    } catch (err) {
      s.destroy();
      throw new MeshDialError(`${target} on ${node}`, describeError(err), {}, err);
    }
    if (line === 'OK' || line.startsWith('OK ')) {
      const t = parseTarget(line.slice(3).trim());
      if (t !== undefined) this.#learnt.set(node, { host: t.ip, port: t.port });
      return s;
    }
    s.destroy();
    throw new TargetRefusedError(`${target} on ${node}`, line.replace(/^ERR /, ''));
  }
}

/** The peer's certificate: signed by the cluster CA, valid now, and for `node` when it names a node. */
function checkPeer(sock: tls.TLSSocket, node: string, caPem: Buffer): string | undefined {
  const cert = sock.getPeerX509Certificate();
  if (cert === undefined) return 'the peer sent no certificate';
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'the peer certificate is not signed by the cluster CA';
  const now = new Date();
  if (new Date(cert.validFrom) > now || now > new Date(cert.validTo)) return 'the peer certificate is not valid now';
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
  if (cn.startsWith(NODE_CN_PREFIX) && cn !== `${NODE_CN_PREFIX}${node}`) return `the peer certificate is for ${cn}, not node ${node}`;
  return undefined;
}
