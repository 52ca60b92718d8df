import type { KubeObject } from '../../../kube/rest.ts';
import { rsReplicas } from '../replicaset/controller.ts';
import { createdAt, intAnnotation, MAX_REPLICAS, maxSurge, maxUnavailable, type DeploymentSpec, sumAvailable, sumSpec } from './util.ts';
import { rsStatus } from '../replicaset/controller.ts';

/** The sizes a rolling update computes; pure, so the arithmetic is tested without an API server. */

/** How many replicas the new ReplicaSet may have now: up to replicas+maxSurge pods in all. */
export function newRSReplicas(spec: DeploymentSpec, all: KubeObject[], newRS: KubeObject): number {
  if (spec.strategy === 'Recreate') return spec.replicas;
  const current = sumSpec(all);
  const maxTotal = spec.replicas + maxSurge(spec);
  const own = rsReplicas(newRS);
  if (current >= maxTotal) return own;
  return own + Math.min(maxTotal - current, spec.replicas - own);
}

/**
 * How many old pods may go now without falling below replicas-maxUnavailable available, counting the new
 * ReplicaSet's unavailable pods as already missing.
 */
export function maxScaledDown(spec: DeploymentSpec, all: KubeObject[], newRS: KubeObject | undefined): number {
  const minAvailable = spec.replicas - maxUnavailable(spec);
  const newUnavailable = newRS === undefined ? 0 : rsReplicas(newRS) - (rsStatus(newRS).availableReplicas ?? 0);
  return sumSpec(all) - minAvailable - newUnavailable;
}

/**
 * Old ReplicaSets' unavailable pods go first (up to `max`), oldest ReplicaSet first: they count against no
 * availability. Returns each ReplicaSet's new size.
 */
export function cleanupUnhealthy(old: KubeObject[], max: number): Map<KubeObject, number> {
  const out = new Map<KubeObject, number>();
  let total = 0;
  for (const rs of [...old].sort((a, b) => createdAt(a) - createdAt(b))) {
    if (total >= max) break;
    const r = rsReplicas(rs);
    const unhealthy = r - (rsStatus(rs).availableReplicas ?? 0);
    if (r === 0 || unhealthy <= 0) continue;
    const n = Math.min(max - total, unhealthy);
    out.set(rs, r - n);
    total += n;
  }
  return out;
}

/** Available old pods go while more than replicas-maxUnavailable are available, oldest ReplicaSet first. */
export function scaleDownOld(spec: DeploymentSpec, all: KubeObject[], old: KubeObject[]): Map<KubeObject, number> {
  const out = new Map<KubeObject, number>();
  const minAvailable = spec.replicas - maxUnavailable(spec);
  const available = sumAvailable(all);
  if (available <= minAvailable) return out;
  const target = available - minAvailable;
  let total = 0;
  for (const rs of [...old].sort((a, b) => createdAt(a) - createdAt(b))) {
    if (total >= target) break;
    const r = rsReplicas(rs);
    if (r === 0) continue;
    const n = Math.min(r, target - total);
    out.set(rs, r - n);
    total += n;
  }
  return out;
}

/**
 * A scaling event during a rollout (replicas changed while several ReplicaSets are active): the difference is
 * shared out in proportion to each ReplicaSet's size (Kubernetes' proportional scaling); what rounding leaves
 * goes to the largest (newest on ties when adding, oldest when removing).
 */
export function proportionalSizes(spec: DeploymentSpec, active: KubeObject[], statusReplicas: number): Map<KubeObject, number> {
  const allowed = spec.replicas > 0 ? spec.replicas + maxSurge(spec) : 0;
  const toAdd = allowed - sumSpec(active);
  const sorted = [...active].sort((a, b) => {
    const d = rsReplicas(b) - rsReplicas(a);
    if (d !== 0) return d;
    return toAdd > 0 ? createdAt(b) - createdAt(a) : createdAt(a) - createdAt(b);
  });
  const out = new Map<KubeObject, number>();
  let added = 0;
  for (const rs of sorted) {
    let p = 0;
    if (toAdd !== 0 && rsReplicas(rs) !== 0 && toAdd !== added) {
      const fraction = fractionOf(rs, spec, statusReplicas);
      const left = toAdd - added;
      p = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    }
    out.set(rs, rsReplicas(rs) + p);
    added += p;
  }
  const first = sorted[0];
  if (first !== undefined && toAdd !== 0) out.set(first, Math.max(0, (out.get(first) ?? 0) + toAdd - added));
  return out;
}

function fractionOf(rs: KubeObject, spec: DeploymentSpec, statusReplicas: number): number {
  if (spec.replicas === 0) return -rsReplicas(rs);
  const total = spec.replicas + maxSurge(spec);
  const annotated = intAnnotation(rs, MAX_REPLICAS) ?? statusReplicas;
  if (annotated === 0) return 0;
  return Math.round((rsReplicas(rs) * total) / annotated) - rsReplicas(rs);
}
