import type { Logger } from '../../../core/log.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isAlreadyExists, isNotFound } from '../../../kube/rest.ts';
import type { Informer } from '../../common/informers/informer.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import { controllerKeysFor, controllerRef, isBeingDeleted, isControlledBy, nameOf, namespaceOf, resourcePath, splitKey, uidOf } from '../kit/objects.ts';
import { isJobFinished, type JobCondition, rfc3339 } from '../job/conditions.ts';
import { creationMs } from '../workload/pods.ts';
import { mostRecentTime, nextTime, parseSchedule } from './schedule.ts';

/** Kubernetes 1.32 records the schedule time a Job was created for on the Job. */
export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

type CronJobSpec = {
  schedule?: string;
  timeZone?: string;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean;
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
};

type ObjectRef = { apiVersion: string; kind: string; name: string; namespace: string; uid: string; resourceVersion?: string };
type CronJobStatus = { active?: ObjectRef[]; lastScheduleTime?: string; lastSuccessfulTime?: string };

export type CronJobOptions = {
  /** The controller's clock (ms); tests of the schedule logic give it another one. */
  now?: () => number;
};

const jobPath = (ns: string, name?: string): string => resourcePath('batch/v1', 'jobs', ns, name);

/**
 * Kubernetes' CronJob controller: creates `<cronjob>-<minutes since the epoch>` Jobs at the schedule's times
 * (in spec.timeZone, a CRON_TZ= prefix, or cloudcore's own zone), honouring concurrencyPolicy, suspend and
 * startingDeadlineSeconds; after a stop it starts at most the latest missed run; keeps the Job history limits.
 */
export class CronJobController {
  readonly module: Controller;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #cronjobs: Informer;
  readonly #jobs: Informer;
  readonly #now: () => number;
  /** Jobs this process created and deleted, until the cache shows them: the next reconcile must not redo them. */
  readonly #created = new Map<string, KubeObject>();
  readonly #deleted = new Set<string>();

  constructor(d: ControllerDeps, o: CronJobOptions = {}) {
    this.#kube = d.kube;
    this.#log = d.log('cronjob-controller');
    this.#events = new EventRecorder(d.kube, 'cronjob-controller', this.#log);
    this.#now = o.now ?? Date.now;
    this.#cronjobs = d.informers.informer({ path: '/apis/batch/v1/cronjobs', kind: 'CronJob', apiVersion: 'batch/v1' });
    this.#jobs = d.informers.informer({ path: '/apis/batch/v1/jobs', kind: 'Job', apiVersion: 'batch/v1' });
    this.module = new Controller({
      name: 'cronjob',
      informers: d.informers,
      log: this.#log,
      watches: [{ informer: this.#cronjobs }, { informer: this.#jobs, keys: controllerKeysFor('CronJob') }],
      reconcile: (key) => this.#reconcile(key),
      // A safety net for clock jumps; each CronJob also asks for its next schedule time.
      resyncMs: 5 * 60_000,
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cj = this.#cronjobs.get(namespace, name);
    if (cj === undefined || isBeingDeleted(cj)) return undefined;
    const spec = (cj['spec'] ?? {}) as CronJobSpec;
    const old = (cj['status'] ?? {}) as CronJobStatus;
    const now = this.#now();
    const cached = this.#jobs.list().filter((j) => namespaceOf(j) === namespace && isControlledBy(j, cj));
    const cachedNames = new Set(cached.map(nameOf));
    for (const k of this.#created.keys()) if (k.startsWith(`${key}/`) && cachedNames.has(k.slice(key.length + 1))) this.#created.delete(k);
    for (const u of this.#deleted) if (!cached.some((j) => uidOf(j) === u)) this.#deleted.delete(u);
    const jobs = [...cached.filter((j) => !this.#deleted.has(uidOf(j))), ...[...this.#created].filter(([k]) => k.startsWith(`${key}/`)).map(([, j]) => j)];

    const status: CronJobStatus = { ...old };
    // Active Jobs and the latest success, from the Jobs themselves.
    const unfinished = jobs.filter((j) => isJobFinished((j['status'] as { conditions?: JobCondition[] } | undefined)?.conditions) === undefined);
    const wasActive = new Set((old.active ?? []).map((r) => r.uid));
    for (const j of jobs) {
      const fin = isJobFinished((j['status'] as { conditions?: JobCondition[] } | undefined)?.conditions);
      if (fin !== undefined && wasActive.has(uidOf(j)))
        this.#events.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${nameOf(j)}, condition: ${fin}`);
      const done = (j['status'] as { completionTime?: string } | undefined)?.completionTime;
      if (fin === 'Complete' && done !== undefined && (status.lastSuccessfulTime === undefined || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) {
        status.lastSuccessfulTime = done;
      }
    }
    status.active = unfinished.map((j) => refOf(j));
    await this.#cleanHistory(cj, spec, jobs);

    let requeue: number | undefined;
    const schedule = spec.schedule === undefined ? { error: 'empty schedule' } : parseSchedule(spec.schedule, spec.timeZone);
    if ('error' in schedule) {
      if (spec.timeZone !== undefined && /unknown time zone/.test(schedule.error)) {
        this.#events.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": ${schedule.error}`);
      } else this.#events.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule ?? ''}" : ${schedule.error}`);
    } else if (spec.suspend !== true) {
      const next = nextTime(schedule, now);
      if (next !== undefined) requeue = next - now + 100;
      let earliest = old.lastScheduleTime !== undefined ? Date.parse(old.lastScheduleTime) : creationMs(cj);
      if (spec.startingDeadlineSeconds !== undefined) earliest = Math.max(earliest, now - spec.startingDeadlineSeconds * 1000);
      const recent = mostRecentTime(schedule, earliest, now);
      if (recent.missed > 100) {
        this.#events.event(
          cj,
          'Warning',
          'TooManyMissedTimes',
          `too many missed start times: ${recent.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
        );
      }
      if (recent.time !== undefined) await this.#run(cj, spec, status, jobs, unfinished, recent.time, now);
    }
    await this.#writeStatus(cj, old, status);
    return requeue === undefined ? undefined : { requeueAfterMs: requeue };
  }

  /** Starts the Job of schedule time `at` unless it exists, is too late, or the concurrency policy forbids it. */
  async #run(cj: KubeObject, spec: CronJobSpec, status: CronJobStatus, jobs: KubeObject[], active: KubeObject[], at: number, now: number): Promise<void> {
    const ns = namespaceOf(cj);
    const jobName = `${nameOf(cj)}-${Math.floor(at / 60_000)}`;
    if (jobs.some((j) => nameOf(j) === jobName)) return;
    if (spec.startingDeadlineSeconds !== undefined && at + spec.startingDeadlineSeconds * 1000 < now) {
      this.#events.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(at).toISOString().replace(/\.\d+Z$/, 'Z')}`);
      return;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      // Not recorded as scheduled: the run starts once the active one ends, if still within the deadline.
      this.#events.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return;
    }
    if (policy === 'Replace') {
      for (const j of active) {
        await this.#deleteJob(cj, j);
        status.active = (status.active ?? []).filter((r) => r.uid !== uidOf(j));
      }
    }
    const tmpl = spec.jobTemplate ?? {};
    const body = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace: ns,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339(at) },
        ownerReferences: [controllerRef(cj)],
      },
      spec: structuredClone(tmpl.spec ?? {}),
    };
    let job: KubeObject;
    try {
      job = await this.#kube.create(jobPath(ns), body);
      this.#events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.#events.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      job = await this.#kube.get(jobPath(ns, jobName));
      if (!isControlledBy(job, cj)) return; // someone else's Job under our name: leave it
    }
    this.#created.set(`${namespaceOf(cj)}/${nameOf(cj)}/${jobName}`, job);
    status.active = [...(status.active ?? []).filter((r) => r.uid !== uidOf(job)), refOf(job)];
    status.lastScheduleTime = rfc3339(at);
  }

  async #deleteJob(cj: KubeObject, job: KubeObject): Promise<void> {
    try {
      await this.#kube.delete(jobPath(namespaceOf(job), nameOf(job)), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        preconditions: { uid: uidOf(job) },
      });
      this.#events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${nameOf(job)}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#deleted.add(uidOf(job));
  }

  /** Keeps the newest successfulJobsHistoryLimit (3) Complete and failedJobsHistoryLimit (1) Failed Jobs. */
  async #cleanHistory(cj: KubeObject, spec: CronJobSpec, jobs: KubeObject[]): Promise<void> {
    for (const [kind, limit] of [
      ['Complete', spec.successfulJobsHistoryLimit ?? 3],
      ['Failed', spec.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const done = jobs
        .filter((j) => isJobFinished((j['status'] as { conditions?: JobCondition[] } | undefined)?.conditions) === kind && !isBeingDeleted(j))
        .sort((a, b) => startOf(a) - startOf(b));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) await this.#deleteJob(cj, j);
    }
  }

  async #writeStatus(cj: KubeObject, old: CronJobStatus, status: CronJobStatus): Promise<void> {
    const same =
      JSON.stringify((old.active ?? []).map((r) => r.uid)) === JSON.stringify((status.active ?? []).map((r) => r.uid)) &&
      old.lastScheduleTime === status.lastScheduleTime &&
      old.lastSuccessfulTime === status.lastSuccessfulTime;
    if (same) return;
    const body: Record<string, unknown> = { active: status.active !== undefined && status.active.length > 0 ? status.active : null };
    if (status.lastScheduleTime !== undefined) body['lastScheduleTime'] = status.lastScheduleTime;
    if (status.lastSuccessfulTime !== undefined) body['lastSuccessfulTime'] = status.lastSuccessfulTime;
    try {
      await this.#kube.patch(`${resourcePath('batch/v1', 'cronjobs', namespaceOf(cj), nameOf(cj))}/status`, { status: body }, 'merge');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function refOf(j: KubeObject): ObjectRef {
  return { apiVersion: 'batch/v1', kind: 'Job', name: nameOf(j), namespace: namespaceOf(j), uid: uidOf(j), resourceVersion: j.metadata?.resourceVersion ?? '' };
}

function startOf(j: KubeObject): number {
  const t = Date.parse(String((j['status'] as { startTime?: string } | undefined)?.startTime ?? ''));
  return Number.isFinite(t) ? t : creationMs(j);
}
