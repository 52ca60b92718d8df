import type { KubeObject } from '../../../kube/rest.ts';
import { labelsOf, namespaceOf, selectorMatches, type LabelSelector } from '../kit/objects.ts';

export type PodAffinityTerm = { labelSelector?: LabelSelector; namespaces?: string[]; namespaceSelector?: LabelSelector; topologyKey: string };
type Weighted = { weight: number; podAffinityTerm: PodAffinityTerm };
type Rules = { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[]; preferredDuringSchedulingIgnoredDuringExecution?: Weighted[] };
type Affinity = { podAffinity?: Rules; podAntiAffinity?: Rules };

/** A bound pod and the node it is on (the topology domain comes from the node's labels). */
export type Placed = { pod: KubeObject; node: KubeObject };

function affinityOf(pod: KubeObject): Affinity {
  return ((pod['spec'] as { affinity?: Affinity } | undefined)?.affinity as Affinity | undefined) ?? {};
}

export function hasPodAffinityRules(pod: KubeObject): boolean {
  const a = affinityOf(pod);
  return a.podAffinity !== undefined || a.podAntiAffinity !== undefined;
}

/**
 * Whether `term` (of a pod in `ownerNamespace`) selects `pod`: its namespaces (the owner's when none are named;
 * an empty namespaceSelector means every namespace) and its label selector (none selects nothing).
 */
function termSelects(term: PodAffinityTerm, ownerNamespace: string, pod: KubeObject): boolean {
  const ns = namespaceOf(pod);
  const names = term.namespaces ?? [];
  const sel = term.namespaceSelector;
  const allNs = sel !== undefined && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
  const nsOk = allNs || names.includes(ns) || (names.length === 0 && sel === undefined && ns === ownerNamespace);
  return nsOk && selectorMatches(term.labelSelector, labelsOf(pod));
}

function sameDomain(key: string, a: KubeObject, b: KubeObject): boolean {
  const va = labelsOf(a)[key];
  return va !== undefined && va === labelsOf(b)[key];
}

export const AFFINITY_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ANTI_AFFINITY_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const EXISTING_ANTI_AFFINITY_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

/** kube-scheduler's InterPodAffinity filter: the reason `node` is rejected for `pod`, or undefined. */
export function interPodAffinityReason(pod: KubeObject, node: KubeObject, placed: Placed[]): string | undefined {
  const ns = namespaceOf(pod);
  const a = affinityOf(pod);
  const required = a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  if (required.length > 0) {
    const inDomain = required.every((t) => placed.some((p) => sameDomain(t.topologyKey, p.node, node) && termSelects(t, ns, p.pod)));
    if (!inDomain) {
      // The first pod of a group that wants to be with itself may go anywhere its terms have a domain.
      const anyMatch = required.some((t) => placed.some((p) => termSelects(t, ns, p.pod)));
      const selfMatch = required.every((t) => termSelects(t, ns, pod) && labelsOf(node)[t.topologyKey] !== undefined);
      if (anyMatch || !selfMatch) return AFFINITY_NOT_MATCH;
    }
  }
  for (const t of a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (placed.some((p) => sameDomain(t.topologyKey, p.node, node) && termSelects(t, ns, p.pod))) return ANTI_AFFINITY_NOT_MATCH;
  }
  for (const p of placed) {
    const terms = affinityOf(p.pod).podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    for (const t of terms) if (sameDomain(t.topologyKey, p.node, node) && termSelects(t, namespaceOf(p.pod), pod)) return EXISTING_ANTI_AFFINITY_NOT_MATCH;
  }
  return undefined;
}

/** Preferred (anti-)affinity: each matching pod in the node's domain adds (subtracts) its term's weight. */
export function preferredPodAffinityScore(pod: KubeObject, node: KubeObject, placed: Placed[]): number {
  const ns = namespaceOf(pod);
  const a = affinityOf(pod);
  let s = 0;
  for (const w of a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    for (const p of placed) if (sameDomain(w.podAffinityTerm.topologyKey, p.node, node) && termSelects(w.podAffinityTerm, ns, p.pod)) s += w.weight;
  }
  for (const w of a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    for (const p of placed) if (sameDomain(w.podAffinityTerm.topologyKey, p.node, node) && termSelects(w.podAffinityTerm, ns, p.pod)) s -= w.weight;
  }
  return s;
}
