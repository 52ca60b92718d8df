import type { KubeObject } from '../../../kube/rest.ts';
import { labelsOf, nameOf } from '../kit/objects.ts';

export type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };
type Taint = { key: string; value?: string; effect: string };
type Requirement = { key: string; operator: string; values?: string[] };
type Term = { matchExpressions?: Requirement[]; matchFields?: Requirement[] };

/**
 * The tolerations every DaemonSet pod gets (Kubernetes' AddOrUpdateDaemonPodTolerations): a daemon keeps
 * running on a node that is not ready, unreachable, under pressure or cordoned.
 */
export function defaultDaemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The template's tolerations plus the default daemon ones it does not already have. */
export function withDaemonTolerations(own: Toleration[], hostNetwork: boolean): Toleration[] {
  const out = [...own];
  for (const d of defaultDaemonTolerations(hostNetwork)) {
    if (!out.some((t) => t.key === d.key && (t.effect ?? '') === d.effect && (t.operator ?? 'Equal') === 'Exists')) out.push(d);
  }
  return out;
}

function tolerates(tols: Toleration[], taint: Taint): boolean {
  return tols.some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if ((t.operator ?? 'Equal') === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
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
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A NodeSelectorTerm: every expression on labels and every field (`metadata.name`) requirement holds. */
function termMatches(term: Term, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labels = labelsOf(node);
  if (!exprs.every((r) => requirementMatches(r, labels[r.key]))) return false;
  return fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, nameOf(node)));
}

type PodSpec = {
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Term[] } } };
  tolerations?: Toleration[];
  hostNetwork?: boolean;
};

/**
 * Whether a DaemonSet's pod belongs on `node` (Kubernetes' NodeShouldRunDaemonPod): `shouldRun` for a new
 * pod (node selector, required node affinity, NoSchedule and NoExecute taints tolerated), `shouldContinueRunning`
 * for one already there (only NoExecute taints evict).
 */
export function nodeShouldRun(node: KubeObject, spec: PodSpec): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const labels = labelsOf(node);
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return { shouldRun: false, shouldContinueRunning: false };
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms !== undefined && !terms.some((t) => termMatches(t, node))) return { shouldRun: false, shouldContinueRunning: false };
  const tols = withDaemonTolerations(spec.tolerations ?? [], spec.hostNetwork === true);
  const taints = ((node['spec'] as { taints?: Taint[] } | undefined)?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  let shouldRun = true;
  let shouldContinueRunning = true;
  for (const t of taints) {
    if (tolerates(tols, t)) continue;
    shouldRun = false;
    if (t.effect === 'NoExecute') shouldContinueRunning = false;
  }
  return { shouldRun, shouldContinueRunning };
}

/**
 * The node a daemon pod is for: its `spec.nodeName` once bound, else the node its `metadata.name` affinity
 * names (the scheduler has not bound it yet).
 */
export function targetNodeOf(pod: KubeObject): string {
  const spec = pod['spec'] as (PodSpec & { nodeName?: string }) | undefined;
  if (typeof spec?.nodeName === 'string' && spec.nodeName !== '') return spec.nodeName;
  for (const t of spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0] ?? '';
  }
  return '';
}

/**
 * The pod spec's node affinity pinned to one node, as Kubernetes' DaemonSet controller writes it: one term
 * `metadata.name In [node]` replaces the required terms (the controller already checked them), preferred
 * terms and pod (anti-)affinity stay.
 */
export function pinToNode(spec: Record<string, unknown>, node: string): Record<string, unknown> {
  const affinity = { ...((spec['affinity'] as Record<string, unknown> | undefined) ?? {}) };
  const nodeAffinity = { ...((affinity['nodeAffinity'] as Record<string, unknown> | undefined) ?? {}) };
  nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution'] = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
  };
  affinity['nodeAffinity'] = nodeAffinity;
  return { ...spec, affinity };
}
