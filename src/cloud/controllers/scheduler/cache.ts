import type { KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf } from '../../common/informers/informers.ts';
import { keyOf, nameOf, podPhase } from '../kit/objects.ts';
import type { NodeInfo } from './filter.ts';
import { hostPortsOf } from './ports.ts';
import { add, emptyResources, podRequests, podRequestsForScore } from './resources.ts';

/** A bound pod holds its node's resources until it has finished or is gone (a terminating pod still holds them). */
function holdsResources(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return nodeNameOf(pod) !== '' && phase !== 'Succeeded' && phase !== 'Failed';
}

/** How long an assumed pod counts without the pod informer confirming its binding. */
const ASSUME_TTL_MS = 30_000;

/**
 * The pods on each node, kept from the pod informer, plus the pods this scheduler has bound but the informer
 * has not shown bound yet ("assumed", as kube-scheduler's cache): the next pod is weighed against both, so two
 * pods are never sent to a node that has room for one.
 */
export class SchedulerCache {
  readonly #byNode = new Map<string, Map<string, KubeObject>>();
  readonly #assumed = new Map<string, { node: string; pod: KubeObject; at: number }>();

  onPod(type: 'add' | 'update' | 'delete', pod: KubeObject, old: KubeObject | undefined): void {
    const key = keyOf(pod);
    if (old !== undefined && nodeNameOf(old) !== '' && nodeNameOf(old) !== nodeNameOf(pod)) this.#byNode.get(nodeNameOf(old))?.delete(key);
    const node = nodeNameOf(pod);
    if (type === 'delete' || !holdsResources(pod)) {
      if (node !== '') this.#byNode.get(node)?.delete(key);
      if (type === 'delete' || node !== '') this.#assumed.delete(key);
      return;
    }
    let m = this.#byNode.get(node);
    if (m === undefined) {
      m = new Map();
      this.#byNode.set(node, m);
    }
    m.set(key, pod);
    this.#assumed.delete(key);
  }

  /** Counts `pod` on `node` from now on, until the informer confirms the binding (or the pod is deleted). */
  assume(pod: KubeObject, node: string): void {
    const key = keyOf(pod);
    if (this.#byNode.get(node)?.has(key) === true) return;
    this.#assumed.set(key, { node, pod: { ...pod, spec: { ...(pod['spec'] as object), nodeName: node } }, at: Date.now() });
  }

  isAssumed(key: string): boolean {
    return this.#assumed.has(key);
  }

  nodeInfos(nodes: KubeObject[], now = Date.now()): NodeInfo[] {
    for (const [k, a] of this.#assumed) if (now - a.at > ASSUME_TTL_MS) this.#assumed.delete(k);
    const extra = new Map<string, KubeObject[]>();
    for (const a of this.#assumed.values()) extra.set(a.node, [...(extra.get(a.node) ?? []), a.pod]);
    return nodes.map((node) => {
      const pods = [...(this.#byNode.get(nameOf(node))?.values() ?? []), ...(extra.get(nameOf(node)) ?? [])];
      let requested = emptyResources();
      const scoreRequested = { cpu: 0, memory: 0 };
      const ports = [];
      for (const p of pods) {
        requested = add(requested, podRequests(p));
        const s = podRequestsForScore(p);
        scoreRequested.cpu += s.cpu;
        scoreRequested.memory += s.memory;
        ports.push(...hostPortsOf(p));
      }
      return { node, pods, requested, scoreRequested, ports };
    });
  }
}
