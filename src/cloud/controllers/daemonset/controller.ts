import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isNotFound } from '../../../kube/rest.ts';
import type { Informer } from '../../common/informers/informer.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import {
  controllerKeysFor,
  isBeingDeleted,
  isControlledBy,
  isPodReady,
  keyOf,
  nameOf,
  namespaceOf,
  podPhase,
  resourcePath,
  splitKey,
  uidOf,
} from '../kit/objects.ts';
import { claimPods } from '../workload/adopt.ts';
import { Expectations } from '../workload/expectations.ts';
import { scaledValue } from '../workload/intstr.ts';
import { createPod, creationMs, deletePod, isPodAvailable, msUntilAvailable, podFromTemplate, type PodTemplate } from '../workload/pods.ts';
import { REVISION_HASH_LABEL, syncRevisions } from '../workload/revisions.ts';
import { nodeShouldRun, pinToNode, targetNodeOf, type Toleration, withDaemonTolerations } from './nodes.ts';

const POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** A failed daemon pod is replaced after this delay, doubling per failure on the same node (Kubernetes: 1 s to 15 min). */
const FAILED_POD_BACKOFF_MS = { initial: 1000, max: 15 * 60_000 };

type DaemonSetSpec = {
  selector?: unknown;
  template?: PodTemplate;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
};

type NodeState = { node: KubeObject; shouldRun: boolean; shouldContinueRunning: boolean; pods: KubeObject[] };

/**
 * Kubernetes' DaemonSet controller: one pod per node the DaemonSet selects (edge or not), pinned to its node by
 * node affinity for the scheduler to bind; pods leave nodes that stop matching; RollingUpdate replaces old pods
 * within maxUnavailable / maxSurge, OnDelete only when the user deletes them; ControllerRevisions keep history.
 */
export class DaemonSetController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #sets: Informer;
  readonly #revisions: Informer;
  readonly #pods: InformerView;
  readonly #nodes: InformerView;
  readonly #expect = new Expectations();
  readonly #failures = new Map<string, { count: number; until: number }>();

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('daemonset-controller');
    this.#events = new EventRecorder(d.kube, 'daemonset-controller', this.#log);
    this.#sets = d.informers.informer({ path: '/apis/apps/v1/daemonsets', kind: 'DaemonSet', apiVersion: 'apps/v1' });
    this.#revisions = d.informers.informer({ path: '/apis/apps/v1/controllerrevisions', kind: 'ControllerRevision', apiVersion: 'apps/v1' });
    this.#pods = d.informers.pods;
    this.#nodes = d.informers.allNodes;
    const ownerKey = controllerKeysFor('DaemonSet');
    // Node heartbeats change only status: only a new or gone node, or changed labels, taints or
    // schedulability, can change where daemons belong.
    const allSets = (node: KubeObject, type: string, old: KubeObject | undefined): string[] =>
      type === 'update' && old !== undefined && placementOf(node) === placementOf(old) ? [] : this.#sets.list().map(keyOf);
    this.module = new Controller({
      name: 'daemonset',
      informers: d.informers,
      log: this.#log,
      watches: [
        { informer: this.#sets },
        { informer: this.#pods, keys: ownerKey },
        { informer: this.#revisions, keys: ownerKey },
        { informer: this.#nodes, keys: allSets },
      ],
      reconcile: (key) => this.#reconcile(key),
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const ds = this.#sets.get(namespace, name);
    if (ds === undefined) {
      this.#expect.forget(key);
      return undefined;
    }
    if (isBeingDeleted(ds)) return undefined;
    const nsPods = this.#pods.list().filter((p) => namespaceOf(p) === namespace);
    const pods = await claimPods(this.#kube, ds, nsPods);
    if (!this.#expect.podsObserved(key, pods)) return { requeueAfterMs: 1000 };

    const spec = (ds['spec'] ?? {}) as DaemonSetSpec;
    const template = spec.template ?? {};
    const status = (ds['status'] ?? {}) as { collisionCount?: number };
    const revs = this.#revisions.list().filter((r) => namespaceOf(r) === namespace && isControlledBy(r, ds));
    const inUse = new Set(pods.map((p) => `${name}-${(p.metadata?.['labels'] as Record<string, string> | undefined)?.[REVISION_HASH_LABEL] ?? ''}`));
    const rev = await syncRevisions({
      kube: this.#kube,
      owner: ds,
      template,
      revisions: revs,
      collisionCount: status.collisionCount ?? 0,
      historyLimit: spec.revisionHistoryLimit ?? 10,
      inUse,
    });
    const hash = rev.hash;
    const now = Date.now();
    const minReady = spec.minReadySeconds ?? 0;

    const byNode = new Map<string, KubeObject[]>();
    for (const p of pods) {
      const n = targetNodeOf(p);
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const states: NodeState[] = this.#nodes.list().map((node) => ({
      node,
      ...nodeShouldRun(node, (template.spec ?? {}) as Parameters<typeof nodeShouldRun>[1]),
      pods: (byNode.get(nameOf(node)) ?? []).sort((a, b) => creationMs(a) - creationMs(b)),
    }));
    const known = new Set(states.map((s) => nameOf(s.node)));

    const toCreate: string[] = [];
    const toDelete: KubeObject[] = [];
    let requeue: number | undefined;
    const soon = (ms: number | undefined): void => {
      if (ms !== undefined) requeue = requeue === undefined ? ms : Math.min(requeue, ms);
    };
    // Pods for nodes that are gone (or were never named) are not this DaemonSet's to keep.
    for (const [n, ps] of byNode) if (!known.has(n)) toDelete.push(...ps.filter((p) => !isBeingDeleted(p)));

    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const desired = states.filter((s) => s.shouldRun).length;
    const maxSurge = rolling ? scaledValue(spec.updateStrategy?.rollingUpdate?.maxSurge, desired, true, 0) : 0;
    let maxUnavailable = rolling ? scaledValue(spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1) : 0;
    if (rolling && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    if (maxSurge > 0) maxUnavailable = 0;
    const isNew = (p: KubeObject): boolean => (p.metadata?.['labels'] as Record<string, string> | undefined)?.[REVISION_HASH_LABEL] === hash;

    for (const s of states) {
      const nodeName = nameOf(s.node);
      const failKey = `${key}|${nodeName}`;
      const live = s.pods.filter((p) => !isBeingDeleted(p));
      if (!s.shouldContinueRunning) {
        toDelete.push(...live);
        continue;
      }
      const failed = live.filter((p) => podPhase(p) === 'Failed');
      const running = live.filter((p) => podPhase(p) !== 'Failed');
      if (failed.length > 0) {
        // Kubernetes replaces a failed daemon pod after a backoff, so a crashing daemon does not hot-loop.
        const f = this.#failures.get(failKey);
        if (f !== undefined && f.until > now) soon(f.until - now);
        else {
          const count = (f?.count ?? 0) + 1;
          const delay = Math.min(FAILED_POD_BACKOFF_MS.initial * 2 ** (count - 1), FAILED_POD_BACKOFF_MS.max);
          this.#failures.set(failKey, { count, until: now + delay });
          for (const p of failed) {
            this.#events.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${nameOf(p)} on node ${nodeName}, will try to kill it`);
            toDelete.push(p);
          }
        }
      }
      if (s.pods.length === 0 && s.shouldRun) {
        const f = this.#failures.get(failKey);
        if (f !== undefined && f.until > now) soon(f.until - now);
        else toCreate.push(nodeName);
      } else if (running.length > 1) {
        // One daemon per node; with surge an old and a new one may overlap during an update.
        const news = running.filter(isNew);
        const olds = running.filter((p) => !isNew(p));
        if (maxSurge > 0 && news.length === 1 && olds.length === 1) continue;
        const keep = news[0] ?? running[0];
        toDelete.push(...running.filter((p) => p !== keep));
      }
    }

    if (rolling) {
      const r = this.#rollingUpdate(states, isNew, maxSurge, maxUnavailable, minReady, now);
      toDelete.push(...r.delete);
      toCreate.push(...r.create);
    }

    const hostNetwork = (template.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true;
    const generation = String(ds.metadata?.['generation'] ?? 1);
    const deletions = [...new Map(toDelete.map((p) => [uidOf(p), p])).values()];
    for (const p of deletions) this.#expect.expectDelete(key, uidOf(p));
    const results = await Promise.allSettled([
      ...toCreate.map(async (nodeName) => {
        const pod = podFromTemplate(ds, template, { labels: { [REVISION_HASH_LABEL]: hash, [POD_TEMPLATE_GENERATION]: generation } });
        const pspec = pinToNode(pod['spec'] as Record<string, unknown>, nodeName);
        pspec['tolerations'] = withDaemonTolerations((pspec['tolerations'] as Toleration[] | undefined) ?? [], hostNetwork);
        pod['spec'] = pspec;
        const created = await createPod(this.#kube, this.#events, ds, pod);
        this.#expect.expectCreate(key, nameOf(created));
      }),
      ...deletions.map((p) => deletePod(this.#kube, this.#events, ds, p)),
    ]);
    for (const s of states) if (s.pods.some((p) => podPhase(p) !== 'Failed' && isPodReady(p))) this.#failures.delete(`${key}|${nameOf(s.node)}`);

    for (const s of states) for (const p of s.pods) if (s.shouldRun && isPodReady(p)) soon(msUntilAvailable(p, minReady, now));
    await this.#writeStatus(ds, states, isNew, minReady, now, rev.collisionCount);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return requeue === undefined ? undefined : { requeueAfterMs: requeue };
  }

  /** Which old pods to replace now, and on which nodes to start a surge pod (Kubernetes' rollingUpdate). */
  #rollingUpdate(
    states: NodeState[],
    isNew: (p: KubeObject) => boolean,
    maxSurge: number,
    maxUnavailable: number,
    minReady: number,
    now: number,
  ): { delete: KubeObject[]; create: string[] } {
    const available = (p: KubeObject): boolean => isPodAvailable(p, minReady, now);
    const del: KubeObject[] = [];
    const create: string[] = [];
    if (maxSurge === 0) {
      let unavailable = 0;
      const replaceNow: KubeObject[] = [];
      const candidates: KubeObject[] = [];
      for (const s of states) {
        if (!s.shouldRun) continue;
        const live = s.pods.filter((p) => !isBeingDeleted(p) && podPhase(p) !== 'Failed');
        const newPod = live.find(isNew);
        const oldPod = live.find((p) => !isNew(p));
        if ((newPod === undefined && oldPod === undefined) || (newPod !== undefined && oldPod !== undefined)) unavailable++;
        else if (newPod !== undefined) {
          if (!available(newPod)) unavailable++;
        } else if (oldPod !== undefined) {
          if (!available(oldPod)) replaceNow.push(oldPod);
          else candidates.push(oldPod);
        }
      }
      const budget = Math.max(0, maxUnavailable - unavailable - replaceNow.length);
      del.push(...replaceNow, ...candidates.slice(0, budget));
      return { delete: del, create };
    }
    let surging = 0;
    const want: string[] = [];
    for (const s of states) {
      if (!s.shouldRun) continue;
      const live = s.pods.filter((p) => !isBeingDeleted(p) && podPhase(p) !== 'Failed');
      const newPod = live.find(isNew);
      const oldPod = live.find((p) => !isNew(p));
      if (oldPod === undefined) continue;
      if (newPod === undefined) {
        if (!available(oldPod)) create.push(nameOf(s.node));
        else want.push(nameOf(s.node));
      } else if (available(newPod)) del.push(oldPod);
      else surging++;
    }
    create.push(...want.slice(0, Math.max(0, maxSurge - surging)));
    return { delete: del, create };
  }

  async #writeStatus(
    ds: KubeObject,
    states: NodeState[],
    isNew: (p: KubeObject) => boolean,
    minReady: number,
    now: number,
    collisionCount: number,
  ): Promise<void> {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const s of states) {
      const live = s.pods.filter((p) => !isBeingDeleted(p));
      if (s.shouldRun) desired++;
      if (live.length === 0) continue;
      if (!s.shouldRun) {
        misscheduled++;
        continue;
      }
      current++;
      const first = live.find(isNew) ?? live[0];
      if (first !== undefined && isPodReady(first)) {
        ready++;
        if (isPodAvailable(first, minReady, now)) available++;
      }
      if (live.some(isNew)) updated++;
    }
    const status: Record<string, unknown> = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: Number(ds.metadata?.['generation'] ?? 1),
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available > 0 ? desired - available : null,
      ...(collisionCount > 0 ? { collisionCount } : {}),
    };
    const old = (ds['status'] ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => (v === null ? old[k] === undefined : old[k] === v))) return;
    try {
      await this.#kube.patch(`${resourcePath('apps/v1', 'daemonsets', namespaceOf(ds), nameOf(ds))}/status`, { status }, 'merge');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** What of a node decides whether a daemon runs there. */
function placementOf(node: KubeObject): string {
  const spec = (node['spec'] ?? {}) as { taints?: unknown; unschedulable?: unknown };
  return JSON.stringify([node.metadata?.['labels'] ?? {}, spec.taints ?? [], spec.unschedulable ?? false]);
}
