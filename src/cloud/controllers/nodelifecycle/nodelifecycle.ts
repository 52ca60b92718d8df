import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { KubeApiError, type KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf } from '../../common/informers/informers.ts';
import { EDGE_ROLE_LABEL } from '../../common/nodes.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import { isBeingDeleted, isPodReady, labelsOf, nameOf, namespaceOf, podPhase, resourcePath, splitKey } from '../kit/objects.ts';
import { readyStatus, type Taint, taintsOf } from '../scheduler/taints.ts';
import { DEFAULT_TOLERATION_SECONDS, evictionTime, taintEvicts } from './eviction.ts';
import { reconcileTaints } from './taints.ts';

/** lastTransitionTime of an object's Ready condition ('' when none). */
function readyTransition(o: KubeObject): string {
  const conds = (o['status'] as { conditions?: Array<{ type?: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? [];
  return conds.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '';
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export type NodeLifecycleOptions = {
  /** How long a pod that does not mention not-ready/unreachable tolerates them (DefaultTolerationSeconds). */
  defaultTolerationSeconds?: number;
};

/**
 * Kubernetes' node lifecycle controller for the embedded control plane, built on the Ready condition that
 * EdgeController's NodeMonitor (edge nodes) or a kubelet posts: `not-ready`/`unreachable` taints
 * (NoSchedule + NoExecute) while a node is not Ready, `unschedulable` while it is cordoned; the pods of a node
 * that is not Ready are marked not Ready (status only); NoExecute taints evict the pods that do not tolerate
 * them (tolerationSeconds counted from the taint's timeAdded), except that an edge node's pods are never
 * evicted for being NotReady or unreachable unless the node carries EVICT_OPT_IN_LABEL="true".
 */
export class NodeLifecycleController {
  readonly module: Module;
  readonly #deps: ControllerDeps;
  readonly #events: EventRecorder;
  readonly #log: Logger;
  /** Per node, the Ready transition (its lastTransitionTime) whose pods have been marked not Ready. */
  readonly #marked = new Map<string, string>();

  readonly #defaultTolerationSeconds: number;

  constructor(deps: ControllerDeps, o: NodeLifecycleOptions = {}) {
    this.#deps = deps;
    this.#defaultTolerationSeconds = o.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS;
    this.#log = deps.log('nodelifecycle-controller');
    this.#events = new EventRecorder(deps.kube, 'node-controller', this.#log);
    const c = new Controller({
      name: 'nodelifecycle',
      informers: deps.informers,
      log: this.#log,
      watches: [
        { informer: deps.informers.allNodes },
        // A pod bound to a tainted node (or one changing its tolerations) is the node's business.
        {
          informer: deps.informers.pods,
          keys: (pod, _t, old) => [...new Set([nodeNameOf(pod), old === undefined ? '' : nodeNameOf(old)])].filter((n) => n !== '').map((n) => `/${n}`),
        },
      ],
      reconcile: (key) => this.#reconcile(key),
    });
    this.module = c;
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { name } = splitKey(key);
    const node = this.#deps.informers.allNodes.get('', name);
    if (node === undefined) return undefined;
    const now = Date.now();
    const taints = reconcileTaints(node, rfc3339(now));
    if (taints !== undefined) {
      // resourceVersion: a taint someone added meanwhile (kubectl taint) is not overwritten; a conflict retries.
      await this.#deps.kube.patch(
        `/api/v1/nodes/${encodeURIComponent(name)}`,
        { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints } },
        'merge',
      );
      return undefined; // the node's update event brings the next round with the new taints
    }
    const ready = readyStatus(node);
    const edge = EDGE_ROLE_LABEL in labelsOf(node);
    const noExecute = taintsOf(node).filter((t) => taintEvicts(t, edge, labelsOf(node)));
    if (ready === 'True' || ready === undefined) {
      this.#marked.delete(name);
      // The common case, on every pod event of a healthy node: nothing to look at.
      if (noExecute.length === 0) return undefined;
    }
    const pods = this.#deps.informers.podsOn(name).filter((p) => !isBeingDeleted(p) && podPhase(p) !== 'Succeeded' && podPhase(p) !== 'Failed');
    if (ready !== 'True' && ready !== undefined) {
      // Once per transition, as Kubernetes does: a pod reported Ready after that (an edge whose status reached
      // us before its node's did) is left alone, or nothing would set it Ready again.
      const since = readyTransition(node);
      if (this.#marked.get(name) !== since) {
        await this.#markPodsNotReady(pods, since);
        this.#marked.set(name, since);
      }
    }
    return this.#evict(pods, noExecute, now);
  }

  async #markPodsNotReady(pods: KubeObject[], since: string): Promise<void> {
    const sinceMs = Date.parse(since);
    for (const pod of pods) {
      if (!isPodReady(pod)) continue;
      const readyAt = Date.parse(readyTransition(pod));
      if (!Number.isNaN(sinceMs) && !Number.isNaN(readyAt) && readyAt > sinceMs) continue;
      try {
        await this.#deps.kube.patch(
          `${resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod))}/status`,
          { status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: rfc3339(Date.now()) }] } },
          'strategic',
        );
        this.#events.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
      }
    }
  }

  async #evict(pods: KubeObject[], noExecute: Taint[], now: number): Promise<ReconcileResult> {
    if (noExecute.length === 0) return undefined;
    let next: number | undefined;
    for (const pod of pods) {
      const at = evictionTime(pod, noExecute, now, this.#defaultTolerationSeconds);
      if (at === undefined) continue;
      if (at > now) {
        next = next === undefined ? at : Math.min(next, at);
        continue;
      }
      await this.#deletePod(pod);
    }
    return next === undefined ? undefined : { requeueAfterMs: next - now };
  }

  async #deletePod(pod: KubeObject): Promise<void> {
    const path = resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod));
    this.#events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespaceOf(pod)}/${nameOf(pod)}`);
    try {
      await this.#deps.kube.patch(
        `${path}/status`,
        {
          status: {
            conditions: [
              {
                type: 'DisruptionTarget',
                status: 'True',
                reason: 'DeletionByTaintManager',
                message: 'Taint manager: deleting due to NoExecute taint',
                lastTransitionTime: rfc3339(Date.now()),
              },
            ],
          },
        },
        'strategic',
      );
      await this.#deps.kube.delete(path, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: pod.metadata?.uid } });
      this.#log.info({ pod: `${namespaceOf(pod)}/${nameOf(pod)}`, node: nodeNameOf(pod) }, 'pod evicted for a NoExecute taint');
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.statusCode === 404 || err.statusCode === 409))) throw err;
    }
  }
}
