import type { KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf } from '../../common/informers/informers.ts';
import { annotationsOf, isPodReady, podPhase } from '../kit/objects.ts';

/** `controller.kubernetes.io/pod-deletion-cost`: pods of lower cost go first. */
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

type Cond = { type?: string; status?: string; lastTransitionTime?: string };
type ContainerStatus = { restartCount?: number };

function phaseRank(pod: KubeObject): number {
  const p = podPhase(pod);
  return p === 'Pending' ? 0 : p === 'Unknown' ? 1 : 2;
}

function readySince(pod: KubeObject): number {
  const conds = (pod['status'] as { conditions?: Cond[] } | undefined)?.conditions ?? [];
  const c = conds.find((x) => x.type === 'Ready' && x.status === 'True');
  return c?.lastTransitionTime === undefined ? 0 : Date.parse(c.lastTransitionTime) || 0;
}

function restarts(pod: KubeObject): number {
  const cs = (pod['status'] as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];
  return cs.reduce((n, c) => Math.max(n, c.restartCount ?? 0), 0);
}

function created(pod: KubeObject): number {
  const t = pod.metadata?.['creationTimestamp'];
  return typeof t === 'string' ? Date.parse(t) || 0 : 0;
}

function cost(pod: KubeObject): number {
  const n = Number(annotationsOf(pod)[DELETION_COST]);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Kubernetes compares times of ready/creation in powers of two of their age (LogarithmicScaleDown), so pods of
 * about the same age count as equally old and the other rules decide.
 */
function logBucket(ageMs: number): number {
  return ageMs <= 0 ? 0 : Math.floor(Math.log2(ageMs / 1000 + 1));
}

/**
 * The order in which a ReplicaSet deletes surplus pods, first to go first, as Kubernetes ranks them: unscheduled
 * before scheduled, Pending before Unknown before Running, not ready before ready, lower deletion cost first, pods
 * sharing a node with more of their siblings first, ready for a shorter time first, more restarts first, newer
 * first.
 */
export function deletionOrder(pods: KubeObject[], now = Date.now()): KubeObject[] {
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(nodeNameOf(p), (perNode.get(nodeNameOf(p)) ?? 0) + 1);
  const rank = (p: KubeObject): number => (nodeNameOf(p) === '' ? 0 : (perNode.get(nodeNameOf(p)) ?? 0));
  return [...pods].sort((a, b) => {
    const na = nodeNameOf(a) === '' ? 0 : 1;
    const nb = nodeNameOf(b) === '' ? 0 : 1;
    if (na !== nb) return na - nb;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    if (cost(a) !== cost(b)) return cost(a) - cost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ra === 1) {
      const ba = logBucket(now - readySince(a));
      const bb = logBucket(now - readySince(b));
      if (ba !== bb) return ba - bb;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    const ca = logBucket(now - created(a));
    const cb = logBucket(now - created(b));
    if (ca !== cb) return ca - cb;
    return created(b) - created(a);
  });
}

/**
 * Available = ready for at least `minReadySeconds`. Returns whether the pod is available now and, if it is ready
 * but not yet available, in how many ms it will be.
 */
export function availability(pod: KubeObject, minReadySeconds: number, now = Date.now()): { available: boolean; inMs?: number } {
  if (!isPodReady(pod)) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = readySince(pod);
  const at = since + minReadySeconds * 1000;
  return at <= now ? { available: true } : { available: false, inMs: at - now };
}
