/**
 * Chooses the order in which a connection tries a service port's backends: the strategy's pick first (RoundRobin
 * or Random), the client's sticky backend before it when the Service asks for ClientIP affinity, and backends
 * that recently failed to connect last (still tried, so a backend that came back is found again without waiting
 * for the retry time).
 */
import type { Backend, LbStrategy } from './types.ts';

/** How long a backend that refused or timed out a connect waits at the back of the line. */
export const DEAD_RETRY_MS = 10_000;
/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds`. */
export const DEFAULT_AFFINITY_SECONDS = 10_800;

export type BalancerOptions = {
  strategy: LbStrategy;
  affinity?: { timeoutSeconds: number } | undefined;
  now?: () => number;
  random?: () => number;
};

export class Balancer {
  #strategy: LbStrategy;
  #affinityMs: number | undefined;
  #now: () => number;
  #random: () => number;
  #next = 0;
  #dead = new Map<string, number>();
  #sticky = new Map<string, { key: string; until: number }>();

  constructor(o: BalancerOptions) {
    this.#strategy = o.strategy;
    this.#affinityMs = o.affinity === undefined ? undefined : o.affinity.timeoutSeconds * 1000;
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? Math.random;
  }

  setAffinity(affinity: { timeoutSeconds: number } | undefined): void {
    this.#affinityMs = affinity === undefined ? undefined : affinity.timeoutSeconds * 1000;
    if (affinity === undefined) this.#sticky.clear();
  }

  /** Backends in the order to try them; the caller reports the outcome with `succeeded`/`failed`. */
  order(backends: readonly Backend[], clientIP?: string): Backend[] {
    if (backends.length === 0) return [];
    const now = this.#now();
    const alive: Backend[] = [];
    const dead: Backend[] = [];
    for (const b of backends) {
      const until = this.#dead.get(b.key);
      if (until !== undefined && until > now) dead.push(b);
      else alive.push(b);
    }
    const out = alive.length > 0 ? this.#rotate(alive) : [];
    if (this.#affinityMs !== undefined && clientIP !== undefined) {
      const s = this.#sticky.get(clientIP);
      if (s !== undefined && s.until > now) {
        const i = out.findIndex((b) => b.key === s.key);
        if (i > 0) out.unshift(...out.splice(i, 1));
      }
    }
    return [...out, ...dead];
  }

  succeeded(b: Backend, clientIP?: string): void {
    this.#dead.delete(b.key);
    if (this.#affinityMs !== undefined && clientIP !== undefined) this.#sticky.set(clientIP, { key: b.key, until: this.#now() + this.#affinityMs });
  }

  failed(b: Backend): void {
    this.#dead.set(b.key, this.#now() + DEAD_RETRY_MS);
  }

  /** Forget state of backends that are gone, so the maps do not grow with endpoint churn. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.#dead.keys()) if (!keys.has(k)) this.#dead.delete(k);
    for (const [c, s] of this.#sticky) if (!keys.has(s.key) || s.until <= this.#now()) this.#sticky.delete(c);
  }

  #rotate(list: Backend[]): Backend[] {
    const start = this.#strategy === 'Random' ? Math.floor(this.#random() * list.length) : this.#next++ % list.length;
    return [...list.slice(start), ...list.slice(0, start)];
  }
}
