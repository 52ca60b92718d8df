import type { KubeObject } from '../../../kube/rest.ts';

export type Taint = { key: string; value?: string; effect: string; timeAdded?: string };
export type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
/** Kubernetes' TaintNodesByCondition: a node reporting DiskPressure True takes no new pods. */
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';

/** Whether the node reports DiskPressure True (edged measures it from its filesystems). */
export function hasDiskPressure(node: KubeObject): boolean {
  const conds = (node['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conds.some((x) => x.type === 'DiskPressure' && x.status === 'True');
}

export function taintsOf(node: KubeObject): Taint[] {
  const t = (node['spec'] as { taints?: unknown } | undefined)?.taints;
  return Array.isArray(t) ? (t as Taint[]).filter((x) => typeof x?.key === 'string' && typeof x?.effect === 'string') : [];
}

export function tolerationsOf(pod: KubeObject): Toleration[] {
  const t = (pod['spec'] as { tolerations?: unknown } | undefined)?.tolerations;
  return Array.isArray(t) ? (t as Toleration[]) : [];
}

/** Kubernetes' toleration match: an empty key with Exists tolerates every taint, an empty effect every effect. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
  const op = t.operator === undefined || t.operator === '' ? 'Equal' : t.operator;
  if (t.key === undefined || t.key === '') return op === 'Exists';
  if (t.key !== taint.key) return false;
  if (op === 'Exists') return true;
  return op === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}

export function toleratedBy(tolerations: Toleration[], taint: Taint): Toleration | undefined {
  return tolerations.find((t) => tolerates(t, taint));
}

type Condition = { type?: string; status?: string };

/**
 * The node's Ready condition status: 'True', 'False', 'Unknown', or undefined when it has posted none yet (a
 * node just registered: Kubernetes leaves it to the kubelet's own registration taint, and to the node monitor,
 * which turns it Unknown once it has been silent too long).
 */
export function readyStatus(node: KubeObject): 'True' | 'False' | 'Unknown' | undefined {
  const conds = (node['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  const c = conds.find((x) => x.type === 'Ready');
  if (c === undefined) return undefined;
  return c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
}

/**
 * The taints the scheduler weighs: the node's own, plus the ones the node lifecycle controller puts on a node
 * that is not Ready or cordoned, if it has not put them there yet (the scheduler acts on the fact at once,
 * not a controller round later).
 */
export function effectiveTaints(node: KubeObject): Taint[] {
  const taints = taintsOf(node);
  const has = (key: string, effect: string): boolean => taints.some((t) => t.key === key && t.effect === effect);
  const out = [...taints];
  const ready = readyStatus(node);
  const cond = ready === 'False' ? TAINT_NOT_READY : ready === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  if (cond !== undefined && !has(cond, 'NoSchedule')) out.push({ key: cond, effect: 'NoSchedule' });
  if (hasDiskPressure(node) && !has(TAINT_DISK_PRESSURE, 'NoSchedule')) out.push({ key: TAINT_DISK_PRESSURE, effect: 'NoSchedule' });
  return out;
}
