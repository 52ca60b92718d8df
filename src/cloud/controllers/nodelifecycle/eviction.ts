import type { KubeObject } from '../../../kube/rest.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, toleratedBy, tolerationsOf, type Taint } from '../scheduler/taints.ts';

/**
 * The label that lets the pods of an edge node be evicted when the node is NotReady or unreachable, as on any
 * Kubernetes node. Without it an edge node keeps its pods bound however long it is offline: the edge keeps
 * running them, and rebuilding them elsewhere (or at the reconnect) is what KubeEdge users do not want.
 */
export const EVICT_OPT_IN_LABEL = 'kubeedge.io/evict-pods-when-unreachable';

/** Whether `taint` may evict pods of a node: not the node-health ones on an edge node without the opt-in label. */
export function taintEvicts(taint: Taint, edgeNode: boolean, labels: Record<string, string>): boolean {
  if (taint.effect !== 'NoExecute') return false;
  if (!edgeNode || labels[EVICT_OPT_IN_LABEL] === 'true') return true;
  return taint.key !== TAINT_NOT_READY && taint.key !== TAINT_UNREACHABLE;
}

/** What kube-apiserver's DefaultTolerationSeconds admission gives a pod for not-ready and unreachable (300 s). */
export const DEFAULT_TOLERATION_SECONDS = 300;

/**
 * Kubernetes' taint manager for one pod: when it must go (ms since epoch; now when it tolerates one of the
 * taints not at all), or undefined when it tolerates them all for ever. A taint's time starts at its timeAdded.
 * A pod that does not mention not-ready or unreachable tolerates them for `defaultSeconds`, as the tolerations
 * kube-apiserver's DefaultTolerationSeconds admission adds to every pod would.
 */
export function evictionTime(pod: KubeObject, taints: Taint[], now: number, defaultSeconds = DEFAULT_TOLERATION_SECONDS): number | undefined {
  const tolerations = tolerationsOf(pod);
  let at: number | undefined;
  for (const t of taints) {
    const health = t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE;
    const tol =
      toleratedBy(tolerations, t) ?? (health ? { key: t.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultSeconds } : undefined);
    if (tol === undefined) return now;
    if (typeof tol.tolerationSeconds !== 'number') continue;
    const added = Date.parse(t.timeAdded ?? '');
    const due = (Number.isNaN(added) ? now : added) + Math.max(0, tol.tolerationSeconds) * 1000;
    at = at === undefined ? due : Math.min(at, due);
  }
  return at;
}
