import type { Logger } from '../../core/log.ts';
import { paths, type KubeObject, type KubeRest } from '../../kube/rest.ts';
import { EDGE_ROLE_LABEL } from './upstream/node.ts';

type Condition = { type: string; status: string; lastHeartbeatTime?: string; lastTransitionTime?: string; reason?: string; message?: string };
type NodeList = { items: KubeObject[] };

export type NodeMonitorOptions = {
  kube: KubeRest;
  log: Logger;
  gracePeriodMs: number;
  periodMs: number;
};

/**
 * The part of kube-controller-manager's node lifecycle controller that an edge user sees: when an edge node
 * stops posting status for the grace period, its conditions turn `Unknown`. It runs only with the embedded
 * API server; a real cluster has its own controller-manager doing this.
 */
export class NodeMonitor {
  readonly #o: NodeMonitorOptions;
  readonly #startedAt = Date.now();
  readonly #lastSeen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(o: NodeMonitorOptions) {
    this.#o = o;
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), this.#o.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** Evidence of life that does not show in the node object (a lease renewal). */
  seen(node: string): void {
    this.#lastSeen.set(node, Date.now());
  }

  async check(now = Date.now()): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const list = await this.#o.kube.get<NodeList>(`${paths.nodes()}?labelSelector=${encodeURIComponent(EDGE_ROLE_LABEL)}`);
      for (const node of list.items) await this.#checkNode(node, now);
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'node monitor could not list nodes');
    } finally {
      this.#running = false;
    }
  }

  async #checkNode(node: KubeObject, now: number): Promise<void> {
    const name = node.metadata?.name ?? '';
    const conditions = ((node['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []);
    const ready = conditions.find((c) => c.type === 'Ready');
    if (ready === undefined || ready.status === 'Unknown') return;
    const heartbeats = conditions.map((c) => Date.parse(c.lastHeartbeatTime ?? '')).filter((t) => !Number.isNaN(t));
    const last = Math.max(this.#startedAt, this.#lastSeen.get(name) ?? 0, ...heartbeats);
    if (now - last <= this.#o.gracePeriodMs) return;
    const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const patch = {
      status: {
        conditions: conditions.map((c) => ({
          type: c.type,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastTransitionTime: at,
        })),
      },
    };
    try {
      await this.#o.kube.patch(paths.nodeStatus(name), patch, 'strategic');
      this.#o.log.info({ node: name, silentForMs: now - last }, 'edge node stopped reporting; conditions set to Unknown');
    } catch (err) {
      this.#o.log.warn({ node: name, err: String(err) }, 'could not mark node Unknown');
    }
  }
}
