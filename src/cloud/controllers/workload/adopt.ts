import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isConflict, isNotFound } from '../../../kube/rest.ts';
import {
  controllerRef,
  controllerRefOf,
  isBeingDeleted,
  isControlledBy,
  type LabelSelector,
  labelsOf,
  nameOf,
  namespaceOf,
  ownerRefsOf,
  resourcePath,
  selectorMatches,
  uidOf,
} from '../kit/objects.ts';

/**
 * Takes in the pods of `owner`'s namespace that its selector matches and no controller owns (left behind by
 * `kubectl delete --cascade=orphan`), as Kubernetes' controllers adopt them: a StatefulSet created again must
 * find its `web-0`, not fail to create it. Returns the pods adopted.
 */
export async function adoptOrphans(kube: KubeRest, owner: KubeObject, pods: KubeObject[], selector: LabelSelector | undefined): Promise<KubeObject[]> {
  if (isBeingDeleted(owner) || selector === undefined) return [];
  // An empty selector would take every pod of the namespace: Kubernetes' validation refuses it for workloads.
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0) return [];
  const adopted: KubeObject[] = [];
  for (const p of pods) {
    if (namespaceOf(p) !== namespaceOf(owner) || controllerRefOf(p) !== undefined || isBeingDeleted(p)) continue;
    if (!selectorMatches(selector, labelsOf(p))) continue;
    try {
      const patched = await kube.patch(
        resourcePath('v1', 'pods', namespaceOf(p), nameOf(p)),
        { metadata: { ownerReferences: [...ownerRefsOf(p), controllerRef(owner)], resourceVersion: p.metadata?.resourceVersion } },
        'merge',
      );
      adopted.push(patched);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err; // changed meanwhile: the next reconcile looks again
    }
  }
  return adopted;
}

/**
 * The pods `owner` controls after adopting its orphans from `nsPods` (the pods of its namespace): the adopted
 * ones come from the patch answers, since the cache may not show their new owner yet.
 */
export async function claimPods(kube: KubeRest, owner: KubeObject, nsPods: KubeObject[]): Promise<KubeObject[]> {
  const adopted = await adoptOrphans(kube, owner, nsPods, (owner['spec'] as { selector?: LabelSelector } | undefined)?.selector);
  return [...nsPods.filter((p) => isControlledBy(p, owner) && !adopted.some((a) => uidOf(a) === uidOf(p))), ...adopted];
}
