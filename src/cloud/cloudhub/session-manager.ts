import type { Logger } from '../../core/log.ts';
import { cloudMetrics } from '../../metrics/cloud.ts';
import type { AdmitVerdict, NodeConnection } from './ws-server.ts';

export type Session = {
  readonly nodeId: string;
  readonly conn: NodeConnection;
  readonly since: number;
  timer: NodeJS.Timeout;
};

export type SessionManagerOptions = {
  nodeLimit: number;
  keepaliveIntervalSec: number;
  log: Logger;
};

/**
 * One session per node. A newer connection for a node replaces the older one (a restarted edge must not wait
 * for the dead socket to time out). A session that sends no keepalive within the interval is closed, as
 * KubeEdge's node session does; only keepalives count, not other traffic.
 */
export class SessionManager {
  readonly #o: SessionManagerOptions;
  readonly #sessions = new Map<string, Session>();

  constructor(o: SessionManagerOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Replacing an existing node's session is always allowed; a new node only below the limit. */
  admit(nodeId: string): AdmitVerdict {
    if (this.#sessions.has(nodeId) || this.#sessions.size < this.#o.nodeLimit) return { ok: true };
    return { ok: false, status: 503, reason: `node limit ${this.#o.nodeLimit} reached` };
  }

  /** Registers `conn` as the node's session and closes the one it replaces. Returns the replaced connection. */
  open(conn: NodeConnection): NodeConnection | undefined {
    const old = this.#sessions.get(conn.nodeId);
    if (old !== undefined) {
      clearTimeout(old.timer);
      this.#o.log.info({ nodeId: conn.nodeId }, 'newer connection replaces the session');
      old.conn.close('replaced by a newer connection');
    }
    this.#sessions.set(conn.nodeId, { nodeId: conn.nodeId, conn, since: Date.now(), timer: this.#arm(conn) });
    cloudMetrics.connectedNodes.set(this.#sessions.size);
    return old?.conn;
  }

  /** Forgets the session if `conn` is still the current one. Returns whether it was. */
  closed(conn: NodeConnection): boolean {
    const s = this.#sessions.get(conn.nodeId);
    if (s === undefined || s.conn !== conn) return false;
    clearTimeout(s.timer);
    this.#sessions.delete(conn.nodeId);
    cloudMetrics.connectedNodes.set(this.#sessions.size);
    return true;
  }

  isCurrent(conn: NodeConnection): boolean {
    return this.#sessions.get(conn.nodeId)?.conn === conn;
  }

  keepalive(conn: NodeConnection): void {
    const s = this.#sessions.get(conn.nodeId);
    if (s === undefined || s.conn !== conn) return;
    clearTimeout(s.timer);
    s.timer = this.#arm(conn);
  }

  get(nodeId: string): Session | undefined {
    return this.#sessions.get(nodeId);
  }

  nodes(): string[] {
    return [...this.#sessions.keys()];
  }

  closeAll(reason: string): void {
    for (const s of this.#sessions.values()) {
      clearTimeout(s.timer);
      s.conn.close(reason);
    }
    this.#sessions.clear();
    cloudMetrics.connectedNodes.set(0);
  }

  #arm(conn: NodeConnection): NodeJS.Timeout {
    const ms = this.#o.keepaliveIntervalSec * 1000;
    return setTimeout(() => {
      this.#o.log.warn({ nodeId: conn.nodeId, keepaliveIntervalSec: this.#o.keepaliveIntervalSec }, 'no keepalive in time, closing session');
      conn.close('keepalive timeout');
    }, ms);
  }
}
