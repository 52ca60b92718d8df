import type { KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf } from '../../common/informers/informers.ts';
import { keyOf, nameOf, podPhase } from '../kit/objects.ts';
import type { NodeInfo } from './filter.ts';
import { hasPodAffinityRules } from './podaffinity.ts';
import { hostPortsOf, type HostPort } from './ports.ts';
import { add, emptyResources, podRequests, podRequestsForScore, type Resources } from './resources.ts';

/** A bound pod holds its node's resources until it has finished or is gone (a terminating pod still holds them). */
function holdsResources(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return nodeNameOf(pod) !== '' && phase !== 'Succeeded' && phase !== 'Failed';
}

/** How long an assumed pod counts without the pod informer confirming its binding. */
const ASSUME_TTL_MS = 30_000;

/** A pod with what the scheduler reads of it, computed once per change of the pod. */
type Entry = { pod: KubeObject; requests: Resources; forScore: { cpu: number; memory: number }; ports: HostPort[]; affinity: boolean };

type Sums = { pods: KubeObject[]; requested: Resources; scoreRequested: { cpu: number; memory: number }; ports: HostPort[] };

function entry(pod: KubeObject): Entry {
  return { pod, requests: podRequests(pod), forScore: podRequestsForScore(pod), ports: hostPortsOf(pod), affinity: hasPodAffinityRules(pod) };
}

function sumUp(entries: Iterable<Entry>): Sums {
  const s: Sums = { pods: [], requested: emptyResources(), scoreRequested: { cpu: 0, memory: 0 }, ports: [] };
  for (const e of entries) {
    s.pods.push(e.pod);
    s.requested = add(s.requested, e.requests);
    s.scoreRequested.cpu += e.forScore.cpu;
    s.scoreRequested.memory += e.forScore.memory;
    s.ports.push(...e.ports);
  }
  return s;
}

/**
 * The pods on each node, kept from the pod informer, plus the pods this scheduler has bound but the informer
 * has not shown bound yet ("assumed", as kube-scheduler's cache): the next pod is weighed against both, so two
 * pods are never sent to a node that has room for one. Each node's sums are kept until one of its pods changes.
 */
export class SchedulerCache {
  readonly #byNode = new Map<string, { entries: Map<string, Entry>; sums: Sums | undefined }>();
  readonly #assumed = new Map<string, { node: string; entry: Entry; at: number }>();
  /** Bound pods with pod (anti-)affinity rules: while there are none, no pod needs the others' placement. */
  readonly #withAffinity = new Set<string>();

  onPod(type: 'add' | 'update' | 'delete', pod: KubeObject, old: KubeObject | undefined): void {
    const key = keyOf(pod);
    if (old !== undefined && nodeNameOf(old) !== '' && nodeNameOf(old) !== nodeNameOf(pod)) this.#remove(nodeNameOf(old), key);
    const node = nodeNameOf(pod);
    if (type === 'delete' || !holdsResources(pod)) {
      if (node !== '') this.#remove(node, key);
      if (type === 'delete' || node !== '') this.#assumed.delete(key);
      return;
    }
    let n = this.#byNode.get(node);
    if (n === undefined) {
      n = { entries: new Map(), sums: undefined };
      this.#byNode.set(node, n);
    }
    const e = entry(pod);
    n.entries.set(key, e);
    n.sums = undefined;
    if (e.affinity) this.#withAffinity.add(key);
    else this.#withAffinity.delete(key);
    this.#assumed.delete(key);
  }

  #remove(node: string, key: string): void {
    const n = this.#byNode.get(node);
    if (n?.entries.delete(key) === true) n.sums = undefined;
    this.#withAffinity.delete(key);
  }

  /** Counts `pod` on `node` from now on, until the informer confirms the binding (or the pod is deleted). */
  assume(pod: KubeObject, node: string): void {
    const key = keyOf(pod);
    if (this.#byNode.get(node)?.entries.has(key) === true) return;
    this.#assumed.set(key, { node, entry: entry({ ...pod, spec: { ...(pod['spec'] as object), nodeName: node } }), at: Date.now() });
  }

  isAssumed(key: string): boolean {
    return this.#assumed.has(key);
  }

  /** Whether any bound or assumed pod has pod (anti-)affinity rules. */
  get anyAffinity(): boolean {
    if (this.#withAffinity.size > 0) return true;
    for (const a of this.#assumed.values()) if (a.entry.affinity) return true;
    return false;
  }

  nodeInfos(nodes: KubeObject[], now = Date.now()): NodeInfo[] {
    for (const [k, a] of this.#assumed) if (now - a.at > ASSUME_TTL_MS) this.#assumed.delete(k);
    const extra = new Map<string, Entry[]>();
    for (const a of this.#assumed.values()) extra.set(a.node, [...(extra.get(a.node) ?? []), a.entry]);
    return nodes.map((node) => {
      const name = nameOf(node);
      const n = this.#byNode.get(name);
      let sums = n?.sums;
      if (n !== undefined && sums === undefined) {
        sums = sumUp(n.entries.values());
        n.sums = sums;
      }
      const more = extra.get(name);
      if (more !== undefined) {
        const m = sumUp(more);
        const base = sums ?? sumUp([]);
        sums = {
          pods: [...base.pods, ...m.pods],
          requested: add(base.requested, m.requested),
          scoreRequested: { cpu: base.scoreRequested.cpu + m.scoreRequested.cpu, memory: base.scoreRequested.memory + m.scoreRequested.memory },
          ports: [...base.ports, ...m.ports],
        };
      }
      const s = sums ?? sumUp([]);
      return { node, pods: s.pods, requested: s.requested, scoreRequested: s.scoreRequested, ports: s.ports };
    });
  }
}
