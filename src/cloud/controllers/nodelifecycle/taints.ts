import type { KubeObject } from '../../../kube/rest.ts';
import {
  hasDiskPressure,
  readyStatus,
  TAINT_DISK_PRESSURE,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  taintsOf,
  type Taint,
} from '../scheduler/taints.ts';

const MANAGED = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_DISK_PRESSURE]);

/** The taints Kubernetes' node lifecycle controller keeps on a node for its Ready and DiskPressure conditions and cordon. */
export function wantedTaints(node: KubeObject): Array<{ key: string; effect: string }> {
  const out: Array<{ key: string; effect: string }> = [];
  const ready = readyStatus(node);
  const cond = ready === 'False' ? TAINT_NOT_READY : ready === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  if (cond !== undefined) out.push({ key: cond, effect: 'NoSchedule' }, { key: cond, effect: 'NoExecute' });
  if ((node['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable === true) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  if (hasDiskPressure(node)) out.push({ key: TAINT_DISK_PRESSURE, effect: 'NoSchedule' });
  return out;
}

/**
 * The node's taints with the managed ones made to match the node's state (others untouched, kept ones keep
 * their timeAdded); undefined when nothing changes.
 */
export function reconcileTaints(node: KubeObject, now: string): Taint[] | undefined {
  const cur = taintsOf(node);
  const want = wantedTaints(node);
  const isWanted = (t: Taint): boolean => want.some((w) => w.key === t.key && w.effect === t.effect);
  const kept = cur.filter((t) => !MANAGED.has(t.key) || isWanted(t));
  const added = want
    .filter((w) => !kept.some((t) => t.key === w.key && t.effect === w.effect))
    .map((w) => ({ key: w.key, effect: w.effect, ...(w.effect === 'NoExecute' ? { timeAdded: now } : {}) }));
  if (added.length === 0 && kept.length === cur.length) return undefined;
  return [...kept, ...added];
}
