import type { KubeObject } from '../../../kube/rest.ts';
import { labelsOf, nameOf } from '../kit/objects.ts';

export type NodeSelectorRequirement = { key: string; operator: string; values?: string[] };
export type NodeSelectorTerm = { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] };
type PreferredTerm = { weight: number; preference: NodeSelectorTerm };
type NodeAffinity = {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredTerm[];
};

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(values[0] ?? '', 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** One term: every expression and field matches; a term with neither matches no node (as in Kubernetes). */
export function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = labelsOf(node);
  for (const r of exprs) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) if (!requirementMatches(r, r.key === 'metadata.name' ? nameOf(node) : undefined)) return false;
  return true;
}

function nodeAffinityOf(pod: KubeObject): NodeAffinity | undefined {
  return (pod['spec'] as { affinity?: { nodeAffinity?: NodeAffinity } } | undefined)?.affinity?.nodeAffinity;
}

/** nodeSelector and required node affinity (terms ORed), kube-scheduler's NodeAffinity filter. */
export function nodeMatchesPod(pod: KubeObject, node: KubeObject): boolean {
  const sel = (pod['spec'] as { nodeSelector?: Record<string, string> } | undefined)?.nodeSelector ?? {};
  const labels = labelsOf(node);
  for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) return false;
  const terms = nodeAffinityOf(pod)?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((t) => termMatches(t, node));
}

/** Sum of the weights of the preferred node affinity terms the node matches. */
export function preferredNodeAffinityScore(pod: KubeObject, node: KubeObject): number {
  let s = 0;
  for (const p of nodeAffinityOf(pod)?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (p.weight !== 0 && termMatches(p.preference ?? {}, node)) s += p.weight;
  }
  return s;
}
