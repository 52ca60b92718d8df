import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isAlreadyExists, isNotFound } from '../../../kube/rest.ts';
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
  labelsOf,
  nameOf,
  namespaceOf,
  podPhase,
  resourcePath,
  splitKey,
  uidOf,
} from '../kit/objects.ts';
import { claimPods } from '../workload/adopt.ts';
import { Expectations } from '../workload/expectations.ts';
import { isPodAvailable, msUntilAvailable, podFromTemplate, type PodTemplate } from '../workload/pods.ts';
import { REVISION_HASH_LABEL, syncRevisions } from '../workload/revisions.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

type StatefulSetSpec = {
  replicas?: number;
  serviceName?: string;
  template?: PodTemplate;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  volumeClaimTemplates?: unknown[];
  ordinals?: { start?: number };
};

type StatefulSetStatus = { currentRevision?: string; updateRevision?: string; collisionCount?: number; currentReplicas?: number };

/**
 * Kubernetes' StatefulSet controller: pods with stable names `<set>-<ordinal>` (and hostname, subdomain, the
 * pod-name and pod-index labels), created in order 0..n-1 each once the previous is Running and Ready and
 * removed in reverse (OrderedReady), or all at once (Parallel); RollingUpdate replaces pods from the highest
 * ordinal down to the partition, one at a time; ControllerRevisions keep history.
 *
 * volumeClaimTemplates are refused (FailedCreate event, no pods): the embedded API server serves no
 * PersistentVolumeClaims, and pods that silently lost their claims would lose the data a StatefulSet exists for.
 */
export class StatefulSetController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #sets: Informer;
  readonly #revisions: Informer;
  readonly #pods: InformerView;
  readonly #expect = new Expectations();

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('statefulset-controller');
    this.#events = new EventRecorder(d.kube, 'statefulset-controller', this.#log);
    this.#sets = d.informers.informer({ path: '/apis/apps/v1/statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1' });
    this.#revisions = d.informers.informer({ path: '/apis/apps/v1/controllerrevisions', kind: 'ControllerRevision', apiVersion: 'apps/v1' });
    this.#pods = d.informers.pods;
    const ownerKey = controllerKeysFor('StatefulSet');
    this.module = new Controller({
      name: 'statefulset',
      informers: d.informers,
      log: this.#log,
      watches: [{ informer: this.#sets }, { informer: this.#pods, keys: ownerKey }, { informer: this.#revisions, keys: ownerKey }],
      reconcile: (key) => this.#reconcile(key),
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const sts = this.#sets.get(namespace, name);
    if (sts === undefined) {
      this.#expect.forget(key);
      return undefined;
    }
    if (isBeingDeleted(sts)) return undefined;
    const nsPods = this.#pods.list().filter((p) => namespaceOf(p) === namespace);
    const pods = await claimPods(this.#kube, sts, nsPods);
    if (!this.#expect.podsObserved(key, pods)) return { requeueAfterMs: 1000 };

    const spec = (sts['spec'] ?? {}) as StatefulSetSpec;
    const old = (sts['status'] ?? {}) as StatefulSetStatus;
    const template = spec.template ?? {};
    const revs = this.#revisions.list().filter((r) => namespaceOf(r) === namespace && isControlledBy(r, sts));
    const rev = await syncRevisions({
      kube: this.#kube,
      owner: sts,
      template,
      revisions: revs,
      collisionCount: old.collisionCount ?? 0,
      historyLimit: spec.revisionHistoryLimit ?? 10,
      inUse: new Set([...pods.map((p) => labelsOf(p)[REVISION_HASH_LABEL] ?? ''), old.currentRevision ?? '']),
    });
    const updateRevision = nameOf(rev.update);
    const currentRev = rev.revisions.find((r) => nameOf(r) === old.currentRevision) ?? rev.update;
    const currentRevision = nameOf(currentRev);
    const templateOf = (revName: string): PodTemplate => {
      if (revName === updateRevision) return template;
      const r = rev.revisions.find((x) => nameOf(x) === revName);
      const t = (r?.['data'] as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
      if (t === undefined) return template;
      const { $patch: _p, ...rest } = t;
      return rest as PodTemplate;
    };

    const replicas = Math.max(0, spec.replicas ?? 1);
    const start = Math.max(0, spec.ordinals?.start ?? 0);
    const ordered = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = rolling ? Math.max(0, spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const minReady = spec.minReadySeconds ?? 0;
    const now = Date.now();
    const healthy = (p: KubeObject): boolean => podPhase(p) === 'Running' && isPodReady(p) && !isBeingDeleted(p);
    const revisionOf = (p: KubeObject): string => labelsOf(p)[REVISION_HASH_LABEL] ?? '';

    const slots: Array<KubeObject | undefined> = Array.from({ length: replicas }, () => undefined);
    const condemned: KubeObject[] = [];
    for (const p of pods) {
      const ord = ordinalOf(name, nameOf(p));
      if (ord !== undefined && ord >= start && ord < start + replicas) slots[ord - start] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => (ordinalOf(name, nameOf(b)) ?? -1) - (ordinalOf(name, nameOf(a)) ?? -1));

    let requeue: number | undefined;
    const refused = (spec.volumeClaimTemplates ?? []).length > 0;
    if (refused) {
      this.#events.event(
        sts,
        'Warning',
        'FailedCreate',
        'create Pod failed: volumeClaimTemplates are not supported: the embedded API server serves no PersistentVolumeClaims; remove volumeClaimTemplates or use a real cluster (kubeAPIConfig.kubeConfig)',
      );
    } else {
      requeue = await this.#step(sts, {
        slots,
        condemned,
        ordered,
        rolling,
        partition,
        start,
        updateRevision,
        currentRevision,
        templateOf,
        healthy,
        revisionOf,
        key,
      });
    }

    for (const p of pods) if (isPodReady(p)) requeue = minOf(requeue, msUntilAvailable(p, minReady, now));
    const inRange = slots.filter((p): p is KubeObject => p !== undefined);
    const status: Record<string, unknown> = {
      observedGeneration: Number(sts.metadata?.['generation'] ?? 1),
      replicas: inRange.length,
      readyReplicas: inRange.filter((p) => isPodReady(p)).length,
      availableReplicas: inRange.filter((p) => isPodAvailable(p, minReady, now)).length,
      currentReplicas: inRange.filter((p) => revisionOf(p) === currentRevision).length,
      updatedReplicas: inRange.filter((p) => revisionOf(p) === updateRevision).length,
      currentRevision,
      updateRevision,
      collisionCount: rev.collisionCount,
    };
    // Kubernetes' completeRollingUpdate: once every pod runs the update revision and is ready, it is current.
    if (rolling && status['updatedReplicas'] === status['replicas'] && status['readyReplicas'] === status['replicas'] && inRange.length === replicas) {
      status['currentRevision'] = updateRevision;
      status['currentReplicas'] = status['updatedReplicas'];
    }
    const prev = (sts['status'] ?? {}) as Record<string, unknown>;
    if (Object.entries(status).some(([k, v]) => prev[k] !== v)) {
      try {
        await this.#kube.patch(`${resourcePath('apps/v1', 'statefulsets', namespace, name)}/status`, { status }, 'merge');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return requeue === undefined ? undefined : { requeueAfterMs: requeue };
  }

  /** One round of Kubernetes' StatefulSet update: create, replace failed, scale down, then roll. */
  async #step(
    sts: KubeObject,
    s: {
      slots: Array<KubeObject | undefined>;
      condemned: KubeObject[];
      ordered: boolean;
      rolling: boolean;
      partition: number;
      start: number;
      updateRevision: string;
      currentRevision: string;
      templateOf: (rev: string) => PodTemplate;
      healthy: (p: KubeObject) => boolean;
      revisionOf: (p: KubeObject) => string;
      key: string;
    },
  ): Promise<number | undefined> {
    const spec = (sts['spec'] ?? {}) as StatefulSetSpec;
    const name = nameOf(sts);
    const work: Array<() => Promise<void>> = [];
    let blocked = false;
    for (let i = 0; i < s.slots.length && !blocked; i++) {
      const ord = s.start + i;
      const p = s.slots[i];
      if (p === undefined) {
        // Pods below the partition keep the current revision when they are recreated.
        const revName = s.rolling && ord < s.partition ? s.currentRevision : s.updateRevision;
        work.push(() => this.#create(sts, ord, revName, s.templateOf(revName), spec.serviceName, s.key));
        if (s.ordered) blocked = true;
        continue;
      }
      if (podPhase(p) === 'Failed' || podPhase(p) === 'Succeeded') {
        if (!isBeingDeleted(p)) {
          this.#events.event(sts, 'Warning', 'RecreatingFailedPod', `StatefulSet ${namespaceOf(sts)}/${name} is recreating failed Pod ${nameOf(p)}`);
          work.push(() => this.#delete(sts, p, s.key));
        }
        if (s.ordered) blocked = true;
        continue;
      }
      if (s.ordered && !s.healthy(p)) blocked = true;
    }
    if (!blocked) {
      // Scale down from the highest ordinal; in order, one at a time once the rest are healthy.
      const inRangeHealthy = s.slots.every((p) => p !== undefined && s.healthy(p));
      for (const p of s.condemned) {
        if (isBeingDeleted(p)) {
          if (s.ordered) {
            blocked = true;
            break;
          }
          continue;
        }
        if (s.ordered && !inRangeHealthy) {
          blocked = true;
          break;
        }
        work.push(() => this.#delete(sts, p, s.key));
        if (s.ordered) {
          blocked = true;
          break;
        }
      }
    }
    if (!blocked && s.rolling && work.length === 0 && s.slots.every((p) => p !== undefined && s.healthy(p))) {
      // Rolling update: the highest pod at or above the partition on an old revision is replaced.
      for (let i = s.slots.length - 1; i >= 0 && s.start + i >= s.partition; i--) {
        const p = s.slots[i] as KubeObject;
        if (s.revisionOf(p) !== s.updateRevision) {
          work.push(() => this.#delete(sts, p, s.key));
          break;
        }
      }
    }
    const results = await Promise.allSettled(work.map((w) => w()));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return undefined;
  }

  async #create(sts: KubeObject, ord: number, revName: string, template: PodTemplate, serviceName: string | undefined, key: string): Promise<void> {
    const podName = `${nameOf(sts)}-${ord}`;
    const pod = podFromTemplate(sts, template, {
      name: podName,
      labels: { [REVISION_HASH_LABEL]: revName, [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ord) },
    });
    const spec = pod['spec'] as { hostname?: string; subdomain?: string };
    spec.hostname = podName;
    if (serviceName !== undefined && serviceName !== '') spec.subdomain = serviceName;
    this.#expect.expectCreate(key, podName);
    try {
      await this.#kube.create(resourcePath('v1', 'pods', namespaceOf(sts)), pod);
      this.#events.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${nameOf(sts)} successful`);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      this.#expect.lowerCreate(key, podName);
      this.#events.event(
        sts,
        'Warning',
        'FailedCreate',
        `create Pod ${podName} in StatefulSet ${nameOf(sts)} failed error: ${err instanceof Error ? err.message : String(err)}`,
      );
      throw err;
    }
  }

  async #delete(sts: KubeObject, pod: KubeObject, key: string): Promise<void> {
    this.#expect.expectDelete(key, uidOf(pod));
    try {
      await this.#kube.delete(resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod)), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: uidOf(pod) },
      });
      this.#events.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${nameOf(pod)} in StatefulSet ${nameOf(sts)} successful`);
    } catch (err) {
      if (isNotFound(err)) return;
      this.#events.event(
        sts,
        'Warning',
        'FailedDelete',
        `delete Pod ${nameOf(pod)} in StatefulSet ${nameOf(sts)} failed error: ${err instanceof Error ? err.message : String(err)}`,
      );
      throw err;
    }
  }
}

/** The ordinal in `<set>-<ordinal>`, or undefined for a name that is not one. */
export function ordinalOf(set: string, pod: string): number | undefined {
  if (!pod.startsWith(`${set}-`)) return undefined;
  const rest = pod.slice(set.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

function minOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
