import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { KubeApiError, type KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import { isBeingDeleted, keyOf, labelsOf, nameOf, namespaceOf, podPhase, resourcePath, splitKey } from '../kit/objects.ts';
import { SchedulerCache } from './cache.ts';
import { filterNode, fitErrorMessage, pickNode, podFacts, scoreNodes } from './filter.ts';

export const SCHEDULER_NAME = 'default-scheduler';

/** Bindings on their way at once; the next decision waits for one to finish beyond this. */
const MAX_BINDINGS_IN_FLIGHT = 16;

export type SchedulerOptions = {
  /** First retry of an unschedulable pod after a cluster change; doubles per attempt up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An unschedulable pod is tried again this long after its last attempt even if nothing changed. */
  unschedulableRetryMs?: number;
};

type Attempt = { attempts: number; last: number };
type Condition = { type?: string; status?: string; reason?: string; message?: string };

/** Pods this scheduler places: unbound, alive, naming it (or no scheduler), no scheduling gates left. */
export function isPendingForUs(pod: KubeObject): boolean {
  const spec = (pod['spec'] as { schedulerName?: string; schedulingGates?: unknown[] } | undefined) ?? {};
  const phase = podPhase(pod);
  return (
    nodeNameOf(pod) === '' &&
    !isBeingDeleted(pod) &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    (spec.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    (spec.schedulingGates ?? []).length === 0
  );
}

/**
 * The embedded control plane's scheduler (kube-scheduler's default profile without preemption, volumes or
 * topology spread): one pod at a time, filtered and scored against every node and the pods on it, bound through
 * `pods/NAME/binding`. A pod that fits nowhere gets PodScheduled=False and a FailedScheduling event worded as
 * kube-scheduler words them, and is tried again when nodes or pods change (after a 1 s..10 s backoff).
 */
export class Scheduler {
  readonly module: Module;
  readonly #deps: ControllerDeps;
  readonly #controller: Controller;
  readonly #cache = new SchedulerCache();
  readonly #attempts = new Map<string, Attempt>();
  readonly #events: EventRecorder;
  readonly #log: Logger;
  readonly #o: Required<SchedulerOptions>;
  readonly #binding = new Set<Promise<void>>();

  constructor(deps: ControllerDeps, o: SchedulerOptions = {}) {
    this.#deps = deps;
    this.#o = {
      initialBackoffMs: o.initialBackoffMs ?? 1000,
      maxBackoffMs: o.maxBackoffMs ?? 10_000,
      unschedulableRetryMs: o.unschedulableRetryMs ?? 5 * 60_000,
    };
    this.#log = deps.log('scheduler');
    this.#events = new EventRecorder(deps.kube, SCHEDULER_NAME, this.#log);
    const { pods, allNodes } = deps.informers;
    // Before the controller's handlers: the cache knows of a change before the work it triggers runs.
    pods.addHandler((type, pod, old) => this.#cache.onPod(type, pod, old));
    this.#controller = new Controller({
      name: 'scheduler',
      informers: deps.informers,
      workers: 1, // one pod at a time: each decision sees the ones before it
      log: this.#log,
      watches: [
        { informer: pods, keys: (pod, type, old) => this.#podEvent(pod, type, old) },
        { informer: allNodes, keys: (node, type, old) => this.#nodeEvent(node, type, old) },
      ],
      reconcile: (key) => this.#schedule(key),
    });
    const c = this.#controller;
    this.module = {
      name: c.name,
      group: c.group,
      enabled: c.enabled,
      start: (ctx) => c.start(ctx),
      stop: async () => {
        await c.stop();
        await Promise.allSettled(this.#binding);
      },
    };
  }

  #podEvent(pod: KubeObject, type: string, old: KubeObject | undefined): string[] {
    if (type !== 'delete' && isPendingForUs(pod)) {
      // Its own status updates (PodScheduled=False) change nothing about where it fits.
      const fresh = old === undefined || !isPendingForUs(old) || JSON.stringify([old['spec'], labelsOf(old)]) !== JSON.stringify([pod['spec'], labelsOf(pod)]);
      return fresh ? [keyOf(pod)] : [];
    }
    this.#attempts.delete(keyOf(pod));
    // A pod that leaves a node, finishes, or changes labels can make room (or an affinity) for a waiting one.
    const freed =
      type === 'delete' ||
      (old !== undefined &&
        (podPhase(old) !== podPhase(pod) || JSON.stringify(labelsOf(old)) !== JSON.stringify(labelsOf(pod)) || nodeNameOf(old) !== nodeNameOf(pod)));
    if (freed) this.#retryWaiting();
    return [];
  }

  #nodeEvent(node: KubeObject, type: string, old: KubeObject | undefined): string[] {
    const changed =
      type !== 'update' ||
      old === undefined ||
      JSON.stringify([labelsOf(old), old['spec'], (old['status'] as { allocatable?: unknown } | undefined)?.allocatable, readyOf(old)]) !==
        JSON.stringify([labelsOf(node), node['spec'], (node['status'] as { allocatable?: unknown } | undefined)?.allocatable, readyOf(node)]);
    if (changed) this.#retryWaiting();
    return [];
  }

  /** Every unschedulable pod goes back to the queue once its backoff since its last attempt has passed. */
  #retryWaiting(): void {
    const now = Date.now();
    for (const [key, a] of this.#attempts) {
      const backoff = Math.min(this.#o.initialBackoffMs * 2 ** Math.max(0, a.attempts - 1), this.#o.maxBackoffMs);
      this.#controller.enqueueAfter(key, a.last + backoff - now);
    }
  }

  async #schedule(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.#deps.informers.pods.get(namespace, name);
    if (pod === undefined || !isPendingForUs(pod)) {
      this.#attempts.delete(key);
      return undefined;
    }
    if (this.#cache.isAssumed(key)) return undefined;
    const nodes = this.#deps.informers.allNodes.list().filter((n) => !isBeingDeleted(n));
    const infos = this.#cache.nodeInfos(nodes);
    const facts = podFacts(pod, infos, this.#cache.anyAffinity);
    const reasons = infos.map((n) => filterNode(facts, n));
    const feasible = infos.filter((_, i) => (reasons[i] ?? []).length === 0);
    if (feasible.length === 0) return this.#unschedulable(key, pod, fitErrorMessage(infos.length, reasons));
    const chosen = feasible[pickNode(scoreNodes(facts, feasible))];
    if (chosen === undefined) return undefined;
    const nodeName = nameOf(chosen.node);
    // Assumed at once: the next pod is weighed with this one on the node while the binding is on its way, as
    // kube-scheduler's binding cycle runs beside the next scheduling cycle.
    this.#cache.assume(pod, nodeName);
    this.#attempts.delete(key);
    if (this.#binding.size >= MAX_BINDINGS_IN_FLIGHT) await Promise.race(this.#binding);
    const p = this.#bind(key, pod, nodeName).finally(() => this.#binding.delete(p));
    this.#binding.add(p);
    return undefined;
  }

  async #bind(key: string, pod: KubeObject, nodeName: string): Promise<void> {
    const namespace = namespaceOf(pod);
    const name = nameOf(pod);
    try {
      await this.#deps.kube.create(`${resourcePath('v1', 'pods', namespace, name)}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
    } catch (err) {
      this.#cache.onPod('delete', pod, undefined); // no longer assumed
      if (err instanceof KubeApiError && (err.statusCode === 404 || err.statusCode === 409)) {
        // Gone, or bound meanwhile by someone else: the informer brings the truth.
        this.#log.info({ pod: key, node: nodeName, status: err.statusCode }, 'binding not applied');
      } else {
        const retryInMs = this.#controller.queue.retry(key);
        this.#log.warn({ err, pod: key, node: nodeName, retryInMs }, 'binding failed, retrying');
      }
      return;
    }
    this.#controller.queue.forget(key);
    this.#events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    this.#log.debug({ pod: key, node: nodeName }, 'pod bound');
  }

  async #unschedulable(key: string, pod: KubeObject, message: string): Promise<ReconcileResult> {
    const a = this.#attempts.get(key) ?? { attempts: 0, last: 0 };
    a.attempts++;
    a.last = Date.now();
    this.#attempts.set(key, a);
    const conds = (pod['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    if (cur?.status !== 'False' || cur.reason !== 'Unschedulable' || cur.message !== message) {
      const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      try {
        await this.#deps.kube.patch(
          `${resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod))}/status`,
          {
            status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: at }] },
          },
          'strategic',
        );
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
        return undefined;
      }
    }
    this.#events.event(pod, 'Warning', 'FailedScheduling', message);
    return { requeueAfterMs: this.#o.unschedulableRetryMs };
  }
}

function readyOf(node: KubeObject): string | undefined {
  const conds = (node['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conds.find((c) => c.type === 'Ready')?.status;
}
