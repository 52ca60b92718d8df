import type { KubeObject } from '../../../kube/rest.ts';
import { annotationsOf, type LabelSelector } from '../kit/objects.ts';
import { rsReplicas, rsStatus } from '../replicaset/controller.ts';
import { scaledValue, type PodTemplate } from './template.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations never copied onto ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);
/** Kubernetes keeps revision-history below this many characters. */
const MAX_HISTORY_CHARS = 2000;
/** progressDeadlineSeconds of MaxInt32 means "no deadline". */
const NO_DEADLINE = 2147483647;

export type Condition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
};

export type DeploymentStatus = {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
};

/** The spec fields the controller reads, with Kubernetes' defaults filled in. */
export type DeploymentSpec = {
  replicas: number;
  selector: LabelSelector | undefined;
  template: PodTemplate;
  strategy: 'RollingUpdate' | 'Recreate';
  maxSurge: unknown;
  maxUnavailable: unknown;
  minReadySeconds: number;
  revisionHistoryLimit: number;
  paused: boolean;
  progressDeadlineSeconds: number | undefined;
};

export function specOf(d: KubeObject): DeploymentSpec {
  const s = (d['spec'] ?? {}) as Record<string, unknown>;
  const strategy = (s['strategy'] ?? {}) as { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
  const pds = num(s['progressDeadlineSeconds'], 600);
  return {
    replicas: num(s['replicas'], 1),
    selector: s['selector'] as LabelSelector | undefined,
    template: (s['template'] ?? {}) as PodTemplate,
    strategy: strategy.type === 'Recreate' ? 'Recreate' : 'RollingUpdate',
    maxSurge: strategy.rollingUpdate?.maxSurge ?? '25%',
    maxUnavailable: strategy.rollingUpdate?.maxUnavailable ?? '25%',
    minReadySeconds: num(s['minReadySeconds'], 0),
    revisionHistoryLimit: num(s['revisionHistoryLimit'], 10),
    paused: s['paused'] === true,
    progressDeadlineSeconds: pds === NO_DEADLINE ? undefined : pds,
  };
}

export function statusOf(d: KubeObject): DeploymentStatus {
  return (d['status'] as DeploymentStatus | undefined) ?? {};
}

export function generationOf(o: KubeObject): number {
  const g = o.metadata?.['generation'];
  return typeof g === 'number' ? g : 0;
}

/** Surge rounded up and unavailability down; both 0 would block a rollout, so unavailability becomes 1. */
export function fenceposts(spec: DeploymentSpec): { surge: number; unavailable: number } {
  const surge = scaledValue(spec.maxSurge, spec.replicas, true);
  let unavailable = scaledValue(spec.maxUnavailable, spec.replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(spec: DeploymentSpec): number {
  return spec.strategy === 'RollingUpdate' ? fenceposts(spec).surge : 0;
}

export function maxUnavailable(spec: DeploymentSpec): number {
  if (spec.strategy !== 'RollingUpdate' || spec.replicas === 0) return 0;
  return Math.min(fenceposts(spec).unavailable, spec.replicas);
}

export function revisionOf(rs: KubeObject): number {
  const n = Number(annotationsOf(rs)[REVISION] ?? '0');
  return Number.isInteger(n) ? n : 0;
}

export function intAnnotation(o: KubeObject, key: string): number | undefined {
  const v = annotationsOf(o)[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

export const sumSpec = (rss: KubeObject[]): number => rss.reduce((n, rs) => n + rsReplicas(rs), 0);
export const sumStatus = (rss: KubeObject[]): number => rss.reduce((n, rs) => n + (rsStatus(rs).replicas ?? 0), 0);
export const sumReady = (rss: KubeObject[]): number => rss.reduce((n, rs) => n + (rsStatus(rs).readyReplicas ?? 0), 0);
export const sumAvailable = (rss: KubeObject[]): number => rss.reduce((n, rs) => n + (rsStatus(rs).availableReplicas ?? 0), 0);

export function createdAt(o: KubeObject): number {
  const t = o.metadata?.['creationTimestamp'];
  return typeof t === 'string' ? Date.parse(t) || 0 : 0;
}

/** Oldest first; ties by name (Kubernetes' ReplicaSetsByCreationTimestamp). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  return createdAt(a) - createdAt(b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));
}

/**
 * Sets a ReplicaSet's annotations for the Deployment: the Deployment's own annotations, the revision (the old one
 * moves to revision-history when a ReplicaSet is reused by a rollback), and on a new ReplicaSet the replica
 * counts. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean): boolean {
  const md = (rs.metadata ??= {});
  const ann = { ...annotationsOf(rs) };
  const before = JSON.stringify(ann);
  for (const [k, v] of Object.entries(annotationsOf(d))) if (!NOT_COPIED.has(k)) ann[k] = v;
  const oldRevision = ann[REVISION];
  const old = oldRevision === undefined ? 0 : Number(oldRevision);
  if (oldRevision === undefined || old < newRevision) {
    ann[REVISION] = String(newRevision);
    if (oldRevision !== undefined && oldRevision !== '') {
      const history = ann[REVISION_HISTORY] === undefined || ann[REVISION_HISTORY] === '' ? [] : ann[REVISION_HISTORY].split(',');
      history.push(oldRevision);
      while (history.join(',').length > MAX_HISTORY_CHARS && history.length > 1) history.shift();
      ann[REVISION_HISTORY] = history.join(',');
    }
  }
  if (!exists) {
    const spec = specOf(d);
    ann[DESIRED_REPLICAS] = String(spec.replicas);
    ann[MAX_REPLICAS] = String(spec.replicas + maxSurge(spec));
  }
  md['annotations'] = ann;
  return JSON.stringify(ann) !== before;
}

/** Sets the desired/max replica annotations; returns whether they changed. */
export function setReplicasAnnotations(rs: KubeObject, desired: number, max: number): boolean {
  const ann = { ...annotationsOf(rs) };
  if (ann[DESIRED_REPLICAS] === String(desired) && ann[MAX_REPLICAS] === String(max)) return false;
  ann[DESIRED_REPLICAS] = String(desired);
  ann[MAX_REPLICAS] = String(max);
  (rs.metadata ??= {})['annotations'] = ann;
  return true;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function getCondition(s: DeploymentStatus, type: string): Condition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

/** Kubernetes' SetDeploymentCondition: same status and reason = no change; same status keeps the transition time. */
export function setCondition(s: DeploymentStatus, c: Condition): void {
  const cur = getCondition(s, c.type);
  if (cur !== undefined && cur.status === c.status && cur.reason === c.reason) return;
  const next = cur !== undefined && cur.status === c.status ? { ...c, lastTransitionTime: cur.lastTransitionTime } : c;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(s: DeploymentStatus, type: string): void {
  if (s.conditions === undefined) return;
  s.conditions = s.conditions.filter((c) => c.type !== type);
}

export function condition(type: string, status: Condition['status'], reason: string, message: string): Condition {
  const t = now();
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** All replicas updated and available, and the current spec observed: the rollout is complete. */
export function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const r = specOf(d).replicas;
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= generationOf(d);
}

/** More pods updated, fewer old ones, or more ready or available than the last status said. */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const o = statusOf(d);
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

export function deploymentTimedOut(d: KubeObject, s: DeploymentStatus, at = Date.now()): boolean {
  const pds = specOf(d).progressDeadlineSeconds;
  if (pds === undefined) return false;
  const c = getCondition(s, 'Progressing');
  if (c === undefined || c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  return Date.parse(c.lastUpdateTime) + pds * 1000 < at;
}
