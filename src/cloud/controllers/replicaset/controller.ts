import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isConflict, isNotFound, KubeApiError, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import {
  controllerRef,
  controllerRefOf,
  isBeingDeleted,
  isPodActive,
  isPodReady,
  keyOf,
  labelsOf,
  type LabelSelector,
  namespaceOf,
  nameOf,
  ownerKeysConcerned,
  ownerRefsOf,
  resourcePath,
  selectorMatches,
  splitKey,
  uidOf,
} from '../kit/objects.ts';
import { templateOf } from '../deployment/template.ts';
import { Expectations } from './expectations.ts';
import { availability, deletionOrder } from './ranking.ts';

/** At most this many pods are created or deleted per sync (Kubernetes' burstReplicas). */
const BURST_REPLICAS = 500;

export type ReplicaSetStatus = {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Array<Record<string, unknown>>;
};

type RsSpec = { replicas?: number; minReadySeconds?: number; selector?: LabelSelector };

export function rsSpec(rs: KubeObject): RsSpec {
  return (rs['spec'] as RsSpec | undefined) ?? {};
}

/** spec.replicas with Kubernetes' default of 1. */
export function rsReplicas(rs: KubeObject): number {
  const r = rsSpec(rs).replicas;
  return typeof r === 'number' ? r : 1;
}

export function rsStatus(rs: KubeObject): ReplicaSetStatus {
  return (rs['status'] as ReplicaSetStatus | undefined) ?? { replicas: 0 };
}

/**
 * Runs `fn` over `count` items in batches of 1, 2, 4, ... (Kubernetes' slow start): a create that keeps failing
 * (quota, admission) fails once or twice, not `count` times. Stops after the first batch with a failure; returns
 * how many succeeded and the first error.
 */
export async function slowStartBatch(count: number, fn: () => Promise<void>): Promise<{ done: number; error?: unknown }> {
  let done = 0;
  let batch = 1;
  while (done < count) {
    const n = Math.min(batch, count - done);
    const results = await Promise.allSettled(Array.from({ length: n }, fn));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    done += ok;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) return { done, error: failed.reason };
    batch *= 2;
  }
  return { done };
}

/**
 * The ReplicaSet controller: keeps `spec.replicas` pods that match the selector, adopting orphans that match
 * and releasing pods that no longer do, and reports how many are ready and available.
 */
export class ReplicaSetController {
  readonly module: Module;
  readonly #c: Controller;
  readonly #kube: KubeRest;
  readonly #rs: InformerView;
  readonly #pods: InformerView;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly expectations = new Expectations();

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('replicaset-controller');
    this.#events = new EventRecorder(d.kube, 'replicaset-controller', this.#log);
    this.#rs = d.informers.informer({ path: '/apis/apps/v1/replicasets', kind: 'ReplicaSet', apiVersion: 'apps/v1' });
    this.#pods = d.informers.pods;
    // Before the Controller's own handler: a pod is counted as observed before its event wakes the owner up.
    this.#pods.addHandler((type, pod, old) => this.#observe(type, pod, old));
    this.#rs.addHandler((type, rs) => {
      if (type === 'delete') this.expectations.forget(keyOf(rs));
    });
    this.#c = new Controller({
      name: 'replicaset',
      informers: d.informers,
      log: this.#log,
      watches: [{ informer: this.#rs }, { informer: this.#pods, keys: (pod, _t, old) => this.#podKeys(pod, old) }],
      reconcile: (key) => this.#reconcile(key),
      workers: 3,
    });
    this.module = this.#c;
  }

  #observe(type: string, pod: KubeObject, old: KubeObject | undefined): void {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return;
    const key = `${namespaceOf(pod)}/${ref.name}`;
    if (type === 'add') {
      if (isBeingDeleted(pod)) this.expectations.deletionObserved(key, keyOf(pod));
      else this.expectations.creationObserved(key);
    } else if (type === 'delete' || (isBeingDeleted(pod) && (old === undefined || !isBeingDeleted(old)))) {
      this.expectations.deletionObserved(key, keyOf(pod));
    }
  }

  /** The ReplicaSets a pod event concerns: its controller (before and after), or for an orphan, those it matches. */
  #podKeys(pod: KubeObject, old: KubeObject | undefined): string[] {
    return ownerKeysConcerned('ReplicaSet', this.#rs.list(), (rs) => rsSpec(rs).selector, pod, old);
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const rs = this.#rs.get(namespace, name);
    if (rs === undefined) {
      this.expectations.forget(key);
      return undefined;
    }
    const pods = await this.#claimPods(rs);
    let manageError: unknown;
    if (this.expectations.satisfied(key) && !isBeingDeleted(rs)) {
      manageError = await this.#manage(rs, key, pods);
    }
    const { status, recheckInMs } = calculateStatus(rs, pods, manageError);
    await this.#writeStatus(rs, status);
    if (manageError !== undefined) throw manageError;
    return recheckInMs === undefined ? undefined : { requeueAfterMs: recheckInMs };
  }

  /** The active pods this ReplicaSet owns after adopting matching orphans and releasing owned pods that no longer match. */
  async #claimPods(rs: KubeObject): Promise<KubeObject[]> {
    const selector = rsSpec(rs).selector;
    const owned: KubeObject[] = [];
    for (const pod of this.#pods.list()) {
      if (namespaceOf(pod) !== namespaceOf(rs) || !isPodActive(pod)) continue;
      const ref = controllerRefOf(pod);
      const matches = selectorMatches(selector, labelsOf(pod));
      if (ref !== undefined) {
        if (ref.uid !== uidOf(rs)) continue;
        if (matches || isBeingDeleted(rs)) owned.push(pod);
        else await this.#release(pod, rs);
        continue;
      }
      if (!matches || isBeingDeleted(rs)) continue;
      const adopted = await this.#adopt(pod, rs);
      if (adopted !== undefined) owned.push(adopted);
    }
    return owned;
  }

  async #adopt(pod: KubeObject, rs: KubeObject): Promise<KubeObject | undefined> {
    try {
      // The uid in the patch makes it fail if the pod was replaced by another of the same name meanwhile.
      return await this.#kube.patch(
        resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod)),
        { metadata: { uid: uidOf(pod), resourceVersion: pod.metadata?.resourceVersion, ownerReferences: [...ownerRefsOf(pod), controllerRef(rs)] } },
        'merge',
      );
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
      return undefined;
    }
  }

  async #release(pod: KubeObject, rs: KubeObject): Promise<void> {
    const refs = ownerRefsOf(pod).filter((r) => r.uid !== uidOf(rs));
    try {
      await this.#kube.patch(
        resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod)),
        { metadata: { uid: uidOf(pod), resourceVersion: pod.metadata?.resourceVersion, ownerReferences: refs.length === 0 ? null : refs } },
        'merge',
      );
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Creates or deletes pods towards spec.replicas; returns the error that stopped it, if any. */
  async #manage(rs: KubeObject, key: string, pods: KubeObject[]): Promise<unknown> {
    const diff = pods.length - rsReplicas(rs);
    if (diff < 0) {
      const want = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, want);
      const r = await slowStartBatch(want, () => this.#createPod(rs, key));
      for (let i = r.done; i < want; i++) this.expectations.creationObserved(key);
      return r.error;
    }
    if (diff > 0) {
      const victims = deletionOrder(pods).slice(0, Math.min(diff, BURST_REPLICAS));
      this.expectations.expectDeletions(key, victims.map(keyOf));
      let first: unknown;
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.#kube.delete(resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod)), { preconditions: { uid: uidOf(pod) } });
            this.#events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${nameOf(pod)}`);
          } catch (err) {
            this.expectations.deletionObserved(key, keyOf(pod));
            if (isNotFound(err)) return;
            this.#events.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errText(err)}`);
            first ??= err;
          }
        }),
      );
      return first;
    }
    return undefined;
  }

  async #createPod(rs: KubeObject, key: string): Promise<void> {
    const t = templateOf(rs);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${nameOf(rs)}-`,
        namespace: namespaceOf(rs),
        labels: { ...(t.metadata?.labels ?? {}) },
        ...(t.metadata?.annotations === undefined ? {} : { annotations: { ...t.metadata.annotations } }),
        ...(t.metadata?.finalizers === undefined ? {} : { finalizers: [...t.metadata.finalizers] }),
        ownerReferences: [controllerRef(rs)],
      },
      spec: structuredClone(t.spec ?? {}),
    };
    try {
      const created = await this.#kube.create(resourcePath('v1', 'pods', namespaceOf(rs)), pod);
      this.#events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${nameOf(created)}`);
    } catch (err) {
      // The namespace is going away with this ReplicaSet in it: nothing to report, nothing will appear.
      if (namespaceTerminating(err)) {
        this.expectations.creationObserved(key);
        return;
      }
      this.#events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errText(err)}`);
      throw err;
    }
  }

  async #writeStatus(rs: KubeObject, status: ReplicaSetStatus): Promise<void> {
    if (sameStatus(rsStatus(rs), status)) return;
    const path = `${resourcePath('apps/v1', 'replicasets', namespaceOf(rs), nameOf(rs))}/status`;
    try {
      await this.#kube.replace(path, { ...rs, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
      // The cache was behind: write the same status onto the current object once, as Kubernetes does.
      const fresh = await this.#kube.get(resourcePath('apps/v1', 'replicasets', namespaceOf(rs), nameOf(rs)));
      await this.#kube.replace(path, { ...fresh, status });
    }
  }
}

function namespaceTerminating(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 403 && err.message.includes('because it is being terminated');
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Zero counts are left out, as Kubernetes' omitempty fields are (`replicas` always shows). */
export function calculateStatus(rs: KubeObject, pods: KubeObject[], manageError?: unknown): { status: ReplicaSetStatus; recheckInMs?: number } {
  const templateLabels = templateOf(rs).metadata?.labels ?? {};
  const minReady = rsSpec(rs).minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  let recheckInMs: number | undefined;
  for (const p of pods) {
    const labels = labelsOf(p);
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fully++;
    if (isPodReady(p)) ready++;
    const a = availability(p, minReady);
    if (a.available) available++;
    else if (a.inMs !== undefined) recheckInMs = Math.min(recheckInMs ?? a.inMs, a.inMs);
  }
  const status: ReplicaSetStatus = { replicas: pods.length };
  if (fully > 0) status.fullyLabeledReplicas = fully;
  if (ready > 0) status.readyReplicas = ready;
  if (available > 0) status.availableReplicas = available;
  const gen = rs.metadata?.['generation'];
  if (typeof gen === 'number') status.observedGeneration = gen;
  const old = rsStatus(rs).conditions?.find((c) => c['type'] === 'ReplicaFailure');
  if (manageError !== undefined) {
    const message = errText(manageError);
    const reason = pods.length < rsReplicas(rs) ? 'FailedCreate' : 'FailedDelete';
    status.conditions = [
      old !== undefined && old['reason'] === reason && old['message'] === message
        ? old
        : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), reason, message },
    ];
  }
  return recheckInMs === undefined ? { status } : { status, recheckInMs: recheckInMs + 50 };
}

function sameStatus(a: ReplicaSetStatus, b: ReplicaSetStatus): boolean {
  const norm = (s: ReplicaSetStatus): string =>
    JSON.stringify([
      s.replicas ?? 0,
      s.fullyLabeledReplicas ?? 0,
      s.readyReplicas ?? 0,
      s.availableReplicas ?? 0,
      s.observedGeneration ?? 0,
      s.conditions ?? [],
    ]);
  return norm(a) === norm(b);
}
