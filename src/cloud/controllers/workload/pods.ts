import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isNotFound } from '../../../kube/rest.ts';
import type { EventRecorder } from '../kit/events.ts';
import { controllerRef, nameOf, namespaceOf, resourcePath, uidOf } from '../kit/objects.ts';

export type PodTemplate = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
};

/**
 * A pod built from a workload's template, owned by the workload (Kubernetes' GetPodFromTemplate): the
 * template's labels and annotations plus the controller's own, its spec as written.
 */
export function podFromTemplate(
  owner: KubeObject,
  template: PodTemplate,
  o: { name?: string; generateName?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] },
): KubeObject {
  const labels = { ...(template.metadata?.labels ?? {}), ...(o.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}), ...(o.annotations ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(o.name !== undefined ? { name: o.name } : { generateName: o.generateName ?? `${nameOf(owner)}-` }),
      namespace: namespaceOf(owner),
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [controllerRef(owner)],
      ...(o.finalizers !== undefined && o.finalizers.length > 0 ? { finalizers: o.finalizers } : {}),
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** Creates a pod and records Kubernetes' SuccessfulCreate / FailedCreate event on the owner. */
export async function createPod(kube: KubeRest, events: EventRecorder, owner: KubeObject, pod: KubeObject): Promise<KubeObject> {
  try {
    const created = await kube.create(resourcePath('v1', 'pods', namespaceOf(owner)), pod);
    events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${nameOf(created)}`);
    return created;
  } catch (err) {
    events.event(owner, 'Warning', 'FailedCreate', `Error creating: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
}

/** Deletes a pod (only the one with this uid) and records SuccessfulDelete; a pod already gone is fine. */
export async function deletePod(kube: KubeRest, events: EventRecorder, owner: KubeObject, pod: KubeObject): Promise<void> {
  try {
    await kube.delete(resourcePath('v1', 'pods', namespaceOf(pod), nameOf(pod)), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: uidOf(pod) },
    });
    events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${nameOf(pod)}`);
  } catch (err) {
    if (isNotFound(err)) return;
    events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
}

/** Ready for at least `minReadySeconds` (Kubernetes' "available"); `now` in ms. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const conds = (pod['status'] as { conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready' && c.status === 'True');
  if (ready === undefined) return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available, for a requeue; undefined when that is not pending. */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: number): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  const conds = (pod['status'] as { conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready' && c.status === 'True');
  const since = Date.parse(ready?.lastTransitionTime ?? '');
  if (!Number.isFinite(since)) return undefined;
  const left = since + minReadySeconds * 1000 - now;
  return left > 0 ? left + 50 : undefined;
}

export function creationMs(o: KubeObject): number {
  const t = Date.parse(String(o.metadata?.['creationTimestamp'] ?? ''));
  return Number.isFinite(t) ? t : 0;
}
