import type { TunnelPurpose, TunnelSession } from '../../stream/index.ts';

export type TunnelEntry = { node: string; purpose: TunnelPurpose; internalIP: string | undefined; session: TunnelSession; since: number };

/**
 * The open tunnels, one per (node, purpose). A node that reconnects replaces its old tunnel (the old one is
 * closed), as CloudHub does with a node's second connection.
 */
export class TunnelRegistry {
  readonly #byKey = new Map<string, TunnelEntry>();

  add(entry: TunnelEntry): TunnelEntry | undefined {
    const key = `${entry.purpose}/${entry.node}`;
    const old = this.#byKey.get(key);
    this.#byKey.set(key, entry);
    entry.session.on('close', () => {
      if (this.#byKey.get(key) === entry) this.#byKey.delete(key);
    });
    if (old !== undefined) old.session.close(1000, 'replaced by a newer tunnel of the same node');
    return old;
  }

  get(node: string, purpose: TunnelPurpose): TunnelEntry | undefined {
    return this.#byKey.get(`${purpose}/${node}`);
  }

  /** The kubelet tunnel of the node whose SessionInternalIP (or name) is `host`, for requests routed by address. */
  byAddress(host: string): TunnelEntry | undefined {
    for (const e of this.#byKey.values()) if (e.purpose === 'kubelet' && (e.internalIP === host || e.node === host)) return e;
    return undefined;
  }

  nodes(purpose: TunnelPurpose): string[] {
    return [...this.#byKey.values()].filter((e) => e.purpose === purpose).map((e) => e.node);
  }

  closeAll(): void {
    for (const e of [...this.#byKey.values()]) e.session.close(1001, 'cloudcore stopping');
    this.#byKey.clear();
  }
}
