import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import type { KubeRest } from '../../../kube/rest.ts';
import { isConflict, isNotFound } from '../../../kube/rest.ts';
import type { Informer } from '../../common/informers/informer.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { isBeingDeleted, resourcePath, splitKey, uidOf } from '../kit/objects.ts';
import { finishedAtMs } from '../job/conditions.ts';

/**
 * Kubernetes' ttl-after-finished controller: a finished Job with `spec.ttlSecondsAfterFinished` is deleted
 * (background propagation: the garbage collector removes its pods) that many seconds after it finished.
 */
export class TtlAfterFinishedController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #jobs: Informer;
  readonly #now: () => number;

  constructor(d: ControllerDeps, o: { now?: () => number } = {}) {
    this.#kube = d.kube;
    this.#log = d.log('ttl-after-finished-controller');
    this.#now = o.now ?? Date.now;
    this.#jobs = d.informers.informer({ path: '/apis/batch/v1/jobs', kind: 'Job', apiVersion: 'batch/v1' });
    this.module = new Controller({
      name: 'ttl-after-finished',
      informers: d.informers,
      log: this.#log,
      watches: [{ informer: this.#jobs }],
      reconcile: (key) => this.#reconcile(key),
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const job = this.#jobs.get(namespace, name);
    if (job === undefined || isBeingDeleted(job)) return undefined;
    const ttl = (job['spec'] as { ttlSecondsAfterFinished?: number } | undefined)?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number' || ttl < 0) return undefined;
    const finished = finishedAtMs(job);
    if (finished === undefined) return undefined;
    const left = finished + ttl * 1000 - this.#now();
    if (left > 0) return { requeueAfterMs: left + 50 };
    try {
      // The uid precondition keeps a Job re-created under the same name meanwhile.
      await this.#kube.delete(resourcePath('batch/v1', 'jobs', namespace, name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        preconditions: { uid: uidOf(job) },
      });
      this.#log.info({ job: key }, 'deleted finished job after its TTL');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    return undefined;
  }
}
