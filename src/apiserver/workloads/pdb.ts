import { rfc3339 } from '../defaults.ts';
import type { Engine } from '../engine.ts';
import { asList, asObj, isObj } from '../kobj.ts';
import { findResource, storageKey, type ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { labelsOf, selectorEmpty, selectorMatches } from './labelselector.ts';

/**
 * PodDisruptionBudget status, computed by the server itself (there is no disruption controller): from the pods
 * the budget selects and the scale of their controllers, the way kube-controller-manager's disruption
 * controller computes it. Evictions read a fresh computation; pod and budget changes refresh the stored status.
 */

/** An eviction the budget counted stays in disruptedPods this long if the pod is not deleted (kube's DeletionTimeout). */
const DISRUPTED_TTL_MS = 2 * 60_000;

const PDB_KEY = 'policy/poddisruptionbudgets';
const POD_KEY = '/pods';
/** Writes that change what a budget counts: pods, and the replicas of their controllers. */
const SCALE_SOURCES = new Set([POD_KEY, 'apps/deployments', 'apps/replicasets', 'apps/statefulsets']);

export function pdbDef(engine: Engine): ResourceDef | undefined {
  return findResource('policy', 'v1', 'poddisruptionbudgets', engine.resources.all());
}

function isReady(pod: KObj): boolean {
  return asList(asObj(pod['status'])['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

export function podIsReady(pod: KObj): boolean {
  return isReady(pod);
}

/** The pods a budget selects (an empty selector selects none, as the eviction API reads it). */
export function selectedPods(pdb: KObj, pods: KObj[]): KObj[] {
  const sel = asObj(pdb['spec'])['selector'];
  if (!isObj(sel) || selectorEmpty(sel)) return [];
  return pods.filter((p) => selectorMatches(sel, labelsOf(p)));
}

/** The budgets that cover a pod. */
export function budgetsFor(engine: Engine, pod: KObj): KObj[] {
  const ns = String(asObj(pod['metadata'])['namespace'] ?? '');
  return engine.store.list(PDB_KEY, ns).filter((b) => selectedPods(b, [pod]).length === 1);
}

/** The replicas a pod's controller wants: a ReplicaSet's Deployment when it has one, else the controller itself; 1 for a bare pod. */
function controllerScale(engine: Engine, ns: string, pod: KObj, seen: Map<string, number>): void {
  const ref = asList(asObj(pod['metadata'])['ownerReferences']).find((r) => r['controller'] === true);
  if (ref === undefined) {
    seen.set(`pod/${String(asObj(pod['metadata'])['uid'])}`, 1);
    return;
  }
  const kind = String(ref['kind'] ?? '');
  const plural = kind === 'ReplicaSet' ? 'replicasets' : kind === 'StatefulSet' ? 'statefulsets' : kind === 'Deployment' ? 'deployments' : undefined;
  const owner = plural === undefined ? undefined : engine.store.get(`apps/${plural}`, ns, String(ref['name'] ?? ''));
  if (owner === undefined) {
    seen.set(`pod/${String(asObj(pod['metadata'])['uid'])}`, 1);
    return;
  }
  let target = owner;
  if (kind === 'ReplicaSet') {
    const dref = asList(asObj(owner['metadata'])['ownerReferences']).find((r) => r['controller'] === true && r['kind'] === 'Deployment');
    const dep = dref === undefined ? undefined : engine.store.get('apps/deployments', ns, String(dref['name'] ?? ''));
    if (dep !== undefined) target = dep;
  }
  const replicas = asObj(target['spec'])['replicas'];
  seen.set(String(asObj(target['metadata'])['uid']), typeof replicas === 'number' ? replicas : 1);
}

/** intstr.GetScaledValueFromIntOrPercent with rounding up. */
function scaled(v: unknown, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  return m === null ? 0 : Math.ceil((Number(m[1]) * total) / 100);
}

export type PdbCounts = {
  expectedPods: number;
  desiredHealthy: number;
  currentHealthy: number;
  disruptionsAllowed: number;
  disruptedPods: Record<string, string>;
};

export function computeCounts(engine: Engine, pdb: KObj, now = Date.now()): PdbCounts {
  const ns = String(asObj(pdb['metadata'])['namespace'] ?? '');
  const spec = asObj(pdb['spec']);
  const pods = selectedPods(pdb, engine.store.list(POD_KEY, ns));
  const live = new Map(pods.map((p) => [String(asObj(p['metadata'])['name']), p]));
  const disruptedPods: Record<string, string> = {};
  for (const [name, at] of Object.entries(asObj(asObj(pdb['status'])['disruptedPods']))) {
    const pod = live.get(name);
    const t = Date.parse(String(at));
    if (pod === undefined || asObj(pod['metadata'])['deletionTimestamp'] !== undefined || Number.isNaN(t) || now - t > DISRUPTED_TTL_MS) continue;
    disruptedPods[name] = String(at);
  }
  let expectedPods: number;
  let desiredHealthy: number;
  if (spec['maxUnavailable'] !== undefined || typeof spec['minAvailable'] === 'string') {
    const seen = new Map<string, number>();
    for (const p of pods) controllerScale(engine, ns, p, seen);
    expectedPods = [...seen.values()].reduce((a, b) => a + b, 0);
    desiredHealthy =
      spec['maxUnavailable'] !== undefined
        ? Math.max(0, expectedPods - scaled(spec['maxUnavailable'], expectedPods))
        : scaled(spec['minAvailable'], expectedPods);
  } else {
    expectedPods = pods.length;
    desiredHealthy = typeof spec['minAvailable'] === 'number' ? spec['minAvailable'] : 1;
  }
  const currentHealthy = pods.filter(
    (p) => isReady(p) && asObj(p['metadata'])['deletionTimestamp'] === undefined && disruptedPods[String(asObj(p['metadata'])['name'])] === undefined,
  ).length;
  const allowed = currentHealthy - desiredHealthy;
  return { expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed: expectedPods <= 0 || allowed <= 0 ? 0 : allowed, disruptedPods };
}

/** The status object for `counts`, keeping the condition's lastTransitionTime while its status stays the same. */
export function statusOf(pdb: KObj, counts: PdbCounts): KObj {
  const prev = asObj(pdb['status']);
  const allowed = counts.disruptionsAllowed > 0;
  const old = asList(prev['conditions']).find((c) => c['type'] === 'DisruptionAllowed');
  const status = allowed ? 'True' : 'False';
  const generation = asObj(pdb['metadata'])['generation'];
  const condition: KObj = {
    type: 'DisruptionAllowed',
    status,
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    lastTransitionTime: old !== undefined && old['status'] === status ? old['lastTransitionTime'] : rfc3339(),
    ...(typeof generation === 'number' ? { observedGeneration: generation } : {}),
  };
  return {
    ...(Object.keys(counts.disruptedPods).length > 0 ? { disruptedPods: counts.disruptedPods } : {}),
    disruptionsAllowed: counts.disruptionsAllowed,
    currentHealthy: counts.currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expectedPods,
    ...(typeof generation === 'number' ? { observedGeneration: generation } : {}),
    conditions: [condition],
  };
}

function sameStatus(a: unknown, b: unknown): boolean {
  const strip = (s: unknown) => {
    const o = structuredClone(asObj(s));
    for (const c of asList(o['conditions'])) delete c['lastTransitionTime'];
    return JSON.stringify(o);
  };
  return strip(a) === strip(b);
}

/** Writes a budget's status when it changed; returns the stored budget. */
export function refreshBudget(engine: Engine, def: ResourceDef, pdb: KObj): KObj {
  const status = statusOf(pdb, computeCounts(engine, pdb));
  if (sameStatus(pdb['status'], status)) return pdb;
  const md = asObj(pdb['metadata']);
  return engine.update(def, String(md['namespace'] ?? ''), String(md['name'] ?? ''), { ...pdb, status }, 'status');
}

/**
 * Keeps stored budgets' status current: a write of a pod, a budget or a pod controller marks its namespace, and the budgets there are
 * recomputed once the write is done (not inside the store's notification, and once for a burst of writes).
 */
export function installPdbStatus(engine: Engine, onError: (err: unknown) => void): () => void {
  const dirty = new Set<string>();
  let scheduled = false;
  let stopped = false;
  const run = (): void => {
    scheduled = false;
    if (stopped) return;
    const def = pdbDef(engine);
    const namespaces = [...dirty];
    dirty.clear();
    if (def === undefined) return;
    for (const ns of namespaces) {
      try {
        for (const pdb of engine.store.list(storageKey(def), ns)) refreshBudget(engine, def, pdb);
      } catch (err) {
        onError(err);
      }
    }
  };
  const unsubscribe = engine.store.subscribe((e) => {
    if (e.key !== PDB_KEY && !SCALE_SOURCES.has(e.key)) return;
    if (e.key !== PDB_KEY && engine.store.list(PDB_KEY, e.namespace).length === 0) return;
    dirty.add(e.namespace);
    if (!scheduled) {
      scheduled = true;
      setImmediate(run);
    }
  });
  // Stopped before the store closes, so a refresh still queued does not read a closed database.
  return () => {
    stopped = true;
    unsubscribe();
  };
}
