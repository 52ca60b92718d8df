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
  annotationsOf,
  controllerKeysFor,
  controllerRefOf,
  isBeingDeleted,
  isControlledBy,
  isPodReady,
  nameOf,
  namespaceOf,
  podPhase,
  resourcePath,
  splitKey,
  uidOf,
} from '../kit/objects.ts';
import { Expectations } from '../workload/expectations.ts';
import { createPod, creationMs, deletePod, podFromTemplate, type PodTemplate } from '../workload/pods.ts';
import { failureBackoffMs, formatIndexes, hasCondition, type JobCondition, parseIndexes, rfc3339, setCondition } from './conditions.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

type JobSpec = {
  parallelism?: number;
  completions?: number | null;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  suspend?: boolean;
  template?: PodTemplate;
};

type JobStatus = {
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  startTime?: string;
  completionTime?: string;
  completedIndexes?: string;
  conditions?: JobCondition[];
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
};

/** The labels Kubernetes puts on a Job's pods (the selector it generates matches the uid ones). */
export function jobPodLabels(job: KubeObject): Record<string, string> {
  return {
    'batch.kubernetes.io/controller-uid': uidOf(job),
    'batch.kubernetes.io/job-name': nameOf(job),
    'controller-uid': uidOf(job),
    'job-name': nameOf(job),
  };
}

function indexOf(pod: KubeObject): number | undefined {
  const v = annotationsOf(pod)[COMPLETION_INDEX];
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function hasTrackingFinalizer(pod: KubeObject): boolean {
  return ((pod.metadata?.['finalizers'] as string[] | undefined) ?? []).includes(JOB_TRACKING_FINALIZER);
}

function isTerminal(pod: KubeObject): boolean {
  const p = podPhase(pod);
  return p === 'Succeeded' || p === 'Failed';
}

/** When a failed pod failed: its last container's finish, else its creation. */
function failedAtMs(pod: KubeObject): number {
  let t = 0;
  const st = (pod['status'] ?? {}) as { containerStatuses?: Array<{ state?: { terminated?: { finishedAt?: string } } }> };
  for (const c of st.containerStatuses ?? []) t = Math.max(t, Date.parse(c.state?.terminated?.finishedAt ?? '') || 0);
  return t > 0 ? t : creationMs(pod);
}

/**
 * Kubernetes' Job controller: runs pods until `completions` succeed (at most `parallelism` at a time; Indexed
 * jobs give each pod its completion index), replaces failed pods after a 10 s doubling backoff, and fails the
 * Job past `backoffLimit` or `activeDeadlineSeconds`. Finished pods are counted through the
 * `batch.kubernetes.io/job-tracking` finalizer and `status.uncountedTerminatedPods`, so no success or failure
 * is lost or counted twice when pods are deleted or cloudcore restarts.
 */
export class JobController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #jobs: Informer;
  readonly #pods: InformerView;
  readonly #expect = new Expectations();
  /** When this process last counted a failure of each Job: a deleted failed pod leaves no time behind. */
  readonly #lastFailure = new Map<string, number>();

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('job-controller');
    this.#events = new EventRecorder(d.kube, 'job-controller', this.#log);
    this.#jobs = d.informers.informer({ path: '/apis/batch/v1/jobs', kind: 'Job', apiVersion: 'batch/v1' });
    this.#pods = d.informers.pods;
    this.module = new Controller({
      name: 'job',
      informers: d.informers,
      log: this.#log,
      watches: [{ informer: this.#jobs }, { informer: this.#pods, keys: controllerKeysFor('Job') }],
      reconcile: (key) => this.#reconcile(key),
    });
  }

  #podPath(pod: KubeObject): string {
    return resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod));
  }

  async #dropFinalizers(pods: KubeObject[]): Promise<void> {
    await Promise.all(
      pods.filter(hasTrackingFinalizer).map((p) =>
        this.#kube
          .patch(this.#podPath(p), { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } }, 'strategic')
          .catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          }),
      ),
    );
  }

  async #writeStatus(job: KubeObject, status: JobStatus): Promise<KubeObject> {
    const path = `${resourcePath('batch/v1', 'jobs', namespaceOf(job), nameOf(job))}/status`;
    return this.#kube.replace(path, { ...job, status });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    let job = this.#jobs.get(namespace, name);
    const owned = (p: KubeObject): boolean =>
      namespaceOf(p) === namespace && (job === undefined ? controllerRefOf(p)?.kind === 'Job' && controllerRefOf(p)?.name === name : isControlledBy(p, job));
    const pods = this.#pods.list().filter(owned);
    if (job === undefined) {
      // The Job is gone: its pods must not stay stuck on the tracking finalizer.
      this.#expect.forget(key);
      this.#lastFailure.delete(key);
      await this.#dropFinalizers(pods);
      return undefined;
    }
    if (!this.#expect.podsObserved(key, pods)) return { requeueAfterMs: 1000 };

    const spec = (job['spec'] ?? {}) as JobSpec;
    let status: JobStatus = structuredClone((job['status'] ?? {}) as JobStatus);
    const conds = status.conditions ?? [];
    const now = Date.now();
    const nowTs = rfc3339(now);
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? (spec.parallelism === undefined ? 1 : null);
    const parallelism = Math.max(0, spec.parallelism ?? 1);
    const backoffLimit = spec.backoffLimit ?? 6;

    if (hasCondition(conds, 'Complete') || hasCondition(conds, 'Failed')) {
      await this.#dropFinalizers(pods);
      return undefined;
    }
    // Pods the Job itself removes (it is finishing, or suspended) are neither successes nor failures.
    const finishing = hasCondition(conds, 'SuccessCriteriaMet') || hasCondition(conds, 'FailureTarget') || spec.suspend === true;

    // 1. Finished pods still holding the finalizer are recorded as uncounted, then released, then counted.
    const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    const inUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const completed = parseIndexes(status.completedIndexes);
    let changed = false;
    for (const p of pods) {
      if (!hasTrackingFinalizer(p) || inUncounted.has(uidOf(p))) continue;
      const phase = podPhase(p);
      if (phase === 'Succeeded') {
        uncounted.succeeded.push(uidOf(p));
        const ix = indexOf(p);
        if (indexed && ix !== undefined && completions !== null && ix < completions) completed.add(ix);
        changed = true;
      } else if (phase === 'Failed' || (isBeingDeleted(p) && !finishing)) {
        uncounted.failed.push(uidOf(p));
        this.#lastFailure.set(key, now);
        changed = true;
      }
    }
    if (changed) {
      status = { ...status, uncountedTerminatedPods: uncounted, ...(indexed ? { completedIndexes: formatIndexes(completed) } : {}) };
      job = await this.#writeStatus(job, status);
    }
    const toRelease = pods.filter(
      (p) => hasTrackingFinalizer(p) && (inUncounted.has(uidOf(p)) || uncounted.succeeded.includes(uidOf(p)) || uncounted.failed.includes(uidOf(p))),
    );
    const finishingRelease = finishing ? pods.filter((p) => hasTrackingFinalizer(p) && isBeingDeleted(p) && !isTerminal(p)) : [];
    await this.#dropFinalizers([...toRelease, ...finishingRelease]);
    if (uncounted.succeeded.length > 0 || uncounted.failed.length > 0) {
      status = {
        ...status,
        succeeded: (status.succeeded ?? 0) + uncounted.succeeded.length,
        failed: (status.failed ?? 0) + uncounted.failed.length,
        uncountedTerminatedPods: {},
      };
    }

    // 2. What the counts say about the Job.
    const active = pods.filter((p) => !isTerminal(p) && !isBeingDeleted(p));
    const terminating = pods.filter((p) => !isTerminal(p) && isBeingDeleted(p));
    const succeeded = status.succeeded ?? 0;
    const failed = status.failed ?? 0;
    const restarts = active.reduce(
      (n, p) =>
        n +
        (((p['status'] ?? {}) as { containerStatuses?: Array<{ restartCount?: number }> }).containerStatuses ?? []).reduce(
          (m, c) => m + (c.restartCount ?? 0),
          0,
        ),
      0,
    );
    let newConds = conds;
    let requeue: number | undefined;
    const startMs = Date.parse(status.startTime ?? '');
    const done = indexed
      ? completions !== null && completed.size >= completions
      : completions === null
        ? succeeded > 0 && active.length === 0
        : succeeded >= completions;
    let failReason: [string, string] | undefined;
    if (hasCondition(conds, 'FailureTarget')) {
      const c = conds.find((x) => x.type === 'FailureTarget');
      failReason = [c?.reason ?? 'BackoffLimitExceeded', c?.message ?? 'Job has reached the specified backoff limit'];
    } else if (!done && failed + restarts > backoffLimit) failReason = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
    else if (!done && spec.activeDeadlineSeconds !== undefined && Number.isFinite(startMs) && !spec.suspend) {
      const left = startMs + spec.activeDeadlineSeconds * 1000 - now;
      if (left <= 0) failReason = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
      else requeue = left + 50;
    }

    const deletions: KubeObject[] = [];
    const creations: KubeObject[] = [];
    if (failReason !== undefined || done) {
      if (failReason !== undefined) newConds = setCondition(newConds, 'FailureTarget', 'True', failReason[0], failReason[1], nowTs);
      else newConds = setCondition(newConds, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', nowTs);
      deletions.push(...active);
      if (active.length === 0 && terminating.length === 0) {
        if (failReason !== undefined) {
          newConds = setCondition(newConds, 'Failed', 'True', failReason[0], failReason[1], nowTs);
          this.#events.event(job, 'Warning', failReason[0], failReason[1]);
        } else {
          newConds = setCondition(newConds, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', nowTs);
          status.completionTime = nowTs;
          this.#events.event(job, 'Normal', 'Completed', 'Job completed');
        }
        requeue = undefined;
      }
    } else if (spec.suspend === true) {
      deletions.push(...active);
      if (!hasCondition(newConds, 'Suspended')) {
        newConds = setCondition(newConds, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowTs);
        this.#events.event(job, 'Normal', 'Suspended', 'Job suspended');
      }
    } else {
      if (hasCondition(newConds, 'Suspended')) {
        newConds = setCondition(newConds, 'Suspended', 'False', 'JobResumed', 'Job resumed', nowTs);
        this.#events.event(job, 'Normal', 'Resumed', 'Job resumed');
        status.startTime = nowTs; // the deadline counts from the resume
      }
      status.startTime ??= nowTs;
      if (requeue === undefined && spec.activeDeadlineSeconds !== undefined) requeue = spec.activeDeadlineSeconds * 1000 + 50;
      // How many pods should run now, and which completion indexes they take.
      let want: number;
      let pending: number[] = [];
      if (indexed && completions !== null) {
        const running = new Set(active.map(indexOf).filter((i): i is number => i !== undefined));
        const busy = new Set([...running, ...terminating.map(indexOf).filter((i): i is number => i !== undefined)]);
        for (let i = 0; i < completions && pending.length < parallelism; i++) if (!completed.has(i) && !busy.has(i)) pending.push(i);
        // Two pods for one index (a stale cache): keep the oldest.
        const byIndex = new Map<number, KubeObject[]>();
        for (const p of active) {
          const ix = indexOf(p);
          if (ix === undefined || ix >= completions || completed.has(ix)) deletions.push(p);
          else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
        }
        for (const ps of byIndex.values()) deletions.push(...ps.sort((a, b) => creationMs(a) - creationMs(b)).slice(1));
        want = Math.min(parallelism, active.length - deletions.length + pending.length);
        pending = pending.slice(0, Math.max(0, want - (active.length - deletions.length)));
      } else {
        want = completions === null ? (succeeded > 0 ? 0 : parallelism) : Math.min(parallelism, Math.max(0, completions - succeeded));
        if (active.length > want) {
          const excess = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || creationMs(b) - creationMs(a));
          deletions.push(...excess.slice(0, active.length - want));
        }
      }
      const missing = indexed ? pending.length : Math.max(0, want - active.length);
      if (missing > 0) {
        const lastFail = Math.max(this.#lastFailure.get(key) ?? 0, ...pods.filter((p) => podPhase(p) === 'Failed').map(failedAtMs));
        const wait = failed > 0 ? lastFail + failureBackoffMs(failed) - now : 0;
        if (wait > 0) requeue = requeue === undefined ? wait : Math.min(requeue, wait);
        else {
          const template = spec.template ?? {};
          for (let n = 0; n < missing; n++) {
            const ix = indexed ? pending[n] : undefined;
            creations.push(this.#podFor(job, template, ix));
          }
        }
      }
    }

    const results = await Promise.allSettled([
      ...creations.map(async (pod) => {
        const created = await createPod(this.#kube, this.#events, job, pod);
        this.#expect.expectCreate(key, nameOf(created));
      }),
      ...[...new Set(deletions)].map((p) => {
        this.#expect.expectDelete(key, uidOf(p));
        return deletePod(this.#kube, this.#events, job, p);
      }),
    ]);
    const createdCount = results.slice(0, creations.length).filter((r) => r.status === 'fulfilled').length;
    const deletedCount = results.length - creations.length - results.slice(creations.length).filter((r) => r.status === 'rejected').length;
    const next: JobStatus = {
      ...status,
      conditions: newConds,
      active: active.length + createdCount - deletedCount,
      ready: active.filter(isPodReady).length,
      terminating: terminating.length + deletedCount,
      succeeded,
      failed,
    };
    if (next.active !== undefined && next.active < 0) next.active = 0;
    if (JSON.stringify(next) !== JSON.stringify(job['status'] ?? {})) {
      try {
        await this.#writeStatus(job, next);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return requeue === undefined ? undefined : { requeueAfterMs: Math.max(100, requeue) };
  }

  #podFor(job: KubeObject, template: PodTemplate, index: number | undefined): KubeObject {
    const labels = jobPodLabels(job);
    const annotations: Record<string, string> = {};
    if (index !== undefined) {
      labels[COMPLETION_INDEX] = String(index);
      annotations[COMPLETION_INDEX] = String(index);
    }
    const pod = podFromTemplate(job, template, {
      generateName: index === undefined ? `${nameOf(job)}-` : `${nameOf(job)}-${index}-`,
      labels,
      annotations,
      finalizers: [JOB_TRACKING_FINALIZER],
    });
    if (index !== undefined) {
      const spec = pod['spec'] as { hostname?: string; containers?: Array<{ env?: unknown[] }>; initContainers?: Array<{ env?: unknown[] }> };
      spec.hostname ??= `${nameOf(job)}-${index}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) c.env = [...(c.env ?? []), env];
    }
    return pod;
  }
}
