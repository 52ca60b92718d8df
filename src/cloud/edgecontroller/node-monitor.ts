import type { Logger } from '../../core/log.ts';
import { paths, type KubeObject, type KubeRest } from '../../kube/rest.ts';
import { EDGE_ROLE_LABEL } from '../common/nodes.ts';

type Condition = { type: string; status: string; lastHeartbeatTime?: string; lastTransitionTime?: string; reason?: string; message?: string };
type List = { items: KubeObject[] };
const LEASE_NAMESPACE = 'kube-node-lease';

export type NodeMonitorOptions = {
  kube: KubeRest;
  log: Logger;
  gracePeriodMs: number;
  periodMs: number;
};

/**
 * The part of kube-controller-manager's node lifecycle controller that an edge user sees: when an edge node
 * has neither renewed its Lease nor posted status for the grace period, its conditions turn `Unknown`. It runs
 * only with the embedded API server; a real cluster has its own controller-manager doing this. Everything it
 * reads is in the API server, so a cloudcore restart changes nothing (it only grants one grace period).
 */
export class NodeMonitor {
  readonly #o: NodeMonitorOptions;
  readonly #startedAt = Date.now();
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

  async check(now = Date.now()): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const [nodes, leases] = await Promise.all([
        this.#o.kube.get<List>(`${paths.nodes()}?labelSelector=${encodeURIComponent(EDGE_ROLE_LABEL)}`),
        this.#o.kube.get<List>(paths.leases(LEASE_NAMESPACE)),
      ]);
      const renewed = new Map<string, number>();
      for (const l of leases.items) {
        const t = Date.parse(String((l['spec'] as { renewTime?: unknown } | undefined)?.renewTime ?? ''));
        if (!Number.isNaN(t)) renewed.set(l.metadata?.name ?? '', t);
      }
      for (const node of nodes.items) await this.#checkNode(node, renewed.get(node.metadata?.name ?? '') ?? 0, now);
    } catch (err) {
      this.#o.log.warn({ err }, 'node monitor could not list nodes and leases');
    } finally {
      this.#running = false;
    }
  }

  async #checkNode(node: KubeObject, leaseRenewed: number, now: number): Promise<void> {
    const name = node.metadata?.name ?? '';
    const conditions = (node['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    if (ready === undefined || ready.status === 'Unknown') return;
    const heartbeats = conditions.map((c) => Date.parse(c.lastHeartbeatTime ?? '')).filter((t) => !Number.isNaN(t));
    const last = Math.max(this.#startedAt, leaseRenewed, ...heartbeats);
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
      this.#o.log.warn({ node: name, err }, 'could not mark node Unknown');
    }
  }
}
