import type { Logger } from '../../core/log.ts';
import { cloudMetrics } from '../../metrics/cloud.ts';
import type { AdmitVerdict, NodeConnection } from './ws-server.ts';

export type Session = {
  readonly nodeId: string;
  readonly conn: NodeConnection;
  readonly since: number;
  /** performance.now() of the last keepalive (or of the open). */
  lastKeepalive: number;
};

export type SessionManagerOptions = {
  nodeLimit: number;
  keepaliveIntervalSec: number;
  log: Logger;
};

/** How often the one ticker looks for silent sessions: an eighth of the interval, within [50 ms, 1 s]. */
export function keepaliveTickMs(keepaliveIntervalSec: number): number {
  return Math.min(1000, Math.max(50, Math.floor((keepaliveIntervalSec * 1000) / 8)));
}

/**
 * One session per node. A newer connection for a node replaces the older one (a restarted edge must not wait
 * for the dead socket to time out). A session that sends no keepalive within the interval is closed, as
 * KubeEdge's node session does; only keepalives count, not other traffic.
 *
 * Keepalive deadlines share one ticker instead of a timer per session: `#byKeepalive` is kept in the order of the
 * last keepalive (a keepalive moves its session to the end), so a tick looks only at the sessions that are due and
 * stops at the first that is not. With 10,000 edges that is one timer instead of 10,000 re-armed every 15 s.
 * A silent session is closed between one interval and one interval plus a tick after its last keepalive.
 */
export class SessionManager {
  readonly #o: SessionManagerOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #byKeepalive = new Map<string, Session>();
  readonly #intervalMs: number;
  readonly #tickMs: number;
  #ticker: NodeJS.Timeout | undefined;

  constructor(o: SessionManagerOptions) {
    this.#o = o;
    this.#intervalMs = o.keepaliveIntervalSec * 1000;
    this.#tickMs = keepaliveTickMs(o.keepaliveIntervalSec);
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
      this.#o.log.info({ nodeId: conn.nodeId }, 'newer connection replaces the session');
      old.conn.close('replaced by a newer connection');
    }
    const s: Session = { nodeId: conn.nodeId, conn, since: Date.now(), lastKeepalive: performance.now() };
    this.#sessions.set(conn.nodeId, s);
    this.#byKeepalive.delete(conn.nodeId);
    this.#byKeepalive.set(conn.nodeId, s);
    this.#ensureTicker();
    cloudMetrics.connectedNodes.set(this.#sessions.size);
    return old?.conn;
  }

  /** Forgets the session if `conn` is still the current one. Returns whether it was. */
  closed(conn: NodeConnection): boolean {
    const s = this.#sessions.get(conn.nodeId);
    if (s === undefined || s.conn !== conn) return false;
    this.#forget(s);
    cloudMetrics.connectedNodes.set(this.#sessions.size);
    return true;
  }

  isCurrent(conn: NodeConnection): boolean {
    return this.#sessions.get(conn.nodeId)?.conn === conn;
  }

  keepalive(conn: NodeConnection): void {
    const s = this.#sessions.get(conn.nodeId);
    if (s === undefined || s.conn !== conn) return;
    s.lastKeepalive = performance.now();
    // Delete and set again: the session moves to the end of the keepalive order.
    this.#byKeepalive.delete(s.nodeId);
    this.#byKeepalive.set(s.nodeId, s);
  }

  get(nodeId: string): Session | undefined {
    return this.#sessions.get(nodeId);
  }

  nodes(): string[] {
    return [...this.#sessions.keys()];
  }

  closeAll(reason: string): void {
    for (const s of this.#sessions.values()) s.conn.close(reason);
    this.#sessions.clear();
    this.#byKeepalive.clear();
    this.#stopTicker();
    cloudMetrics.connectedNodes.set(0);
  }

  #forget(s: Session): void {
    this.#sessions.delete(s.nodeId);
    if (this.#byKeepalive.get(s.nodeId) === s) this.#byKeepalive.delete(s.nodeId);
    if (this.#sessions.size === 0) this.#stopTicker();
  }

  #ensureTicker(): void {
    if (this.#ticker !== undefined) return;
    this.#ticker = setInterval(() => this.#tick(), this.#tickMs);
    // Sessions alone must not keep the process alive (as the per-session timers never did once closed).
    this.#ticker.unref();
  }

  #stopTicker(): void {
    if (this.#ticker === undefined) return;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #tick(): void {
    const dueBefore = performance.now() - this.#intervalMs;
    const silent: Session[] = [];
    for (const s of this.#byKeepalive.values()) {
      if (s.lastKeepalive > dueBefore) break; // ordered by last keepalive: the rest are newer
      silent.push(s);
    }
    for (const s of silent) {
      this.#byKeepalive.delete(s.nodeId);
      this.#o.log.warn({ nodeId: s.nodeId, keepaliveIntervalSec: this.#o.keepaliveIntervalSec }, 'no keepalive in time, closing session');
      // The session stays registered until its socket reports the close, as before (onClose -> closed()).
      s.conn.close('keepalive timeout');
    }
  }
}
