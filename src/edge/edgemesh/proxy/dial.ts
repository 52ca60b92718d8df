/**
 * Opening a TCP connection to a backend. Pods of this node (or of a pod network this host routes to) are
 * dialled directly; a backend on another edge node goes through `remote` (the peer link or the cloud relay).
 * A dial settles only once the far end accepted, so a refused or silent backend is known to the balancer.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeEdgeError } from '../../../core/errors.ts';
import type { Backend } from './types.ts';

export const CONNECT_TIMEOUT_MS = 3000;

export type RemoteDialer = { dial(node: string, target: string, protocol: 'tcp'): Promise<Duplex> };
export type Dialer = (b: Backend) => Promise<Duplex>;

export class MeshDialError extends KubeEdgeError {
  constructor(target: string, reason: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_EDGEMESH_DIAL', `cannot reach ${target}: ${reason}`, { target, ...context }, cause === undefined ? undefined : { cause });
  }
}

/** The far node was reached and said the target itself refused: another path to it would not help. */
export class TargetRefusedError extends MeshDialError {}

export function dialTcp(host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    const t = setTimeout(() => {
      s.destroy();
      reject(new MeshDialError(`${host}:${port}`, `no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(t);
      reject(new MeshDialError(`${host}:${port}`, (err as NodeJS.ErrnoException).code ?? err.message, {}, err));
    });
  });
}

/**
 * Local backends directly; others through `remote` when there is one, and when neither the peer link nor the relay
 * reaches that node, straight to the pod IP as a last try (a flat network, or several nodes on one host, routes it).
 */
export function makeDialer(localNode: string, remote?: RemoteDialer): Dialer {
  return async (b) => {
    if (b.nodeName === undefined || b.nodeName === '' || b.nodeName === localNode || remote === undefined) return dialTcp(b.ip, b.port);
    try {
      return await remote.dial(b.nodeName, b.key, 'tcp');
    } catch (err) {
      if (err instanceof TargetRefusedError) throw err;
      return dialTcp(b.ip, b.port);
    }
  };
}
