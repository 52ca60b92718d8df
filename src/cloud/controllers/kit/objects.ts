import type { KubeObject } from '../../../kube/rest.ts';

/** Small readers of the fields controllers look at, over raw JSON objects (the informers keep raw JSON). */

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

export type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
};

export function nameOf(o: KubeObject): string {
  return o.metadata?.name ?? '';
}

export function namespaceOf(o: KubeObject): string {
  return o.metadata?.namespace ?? '';
}

export function uidOf(o: KubeObject): string {
  return o.metadata?.uid ?? '';
}

/** `namespace/name` ('/name' for cluster-scoped objects): the work-queue key of an object. */
export function keyOf(o: KubeObject): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function labelsOf(o: KubeObject): Record<string, string> {
  return (o.metadata?.['labels'] as Record<string, string> | undefined) ?? {};
}

export function annotationsOf(o: KubeObject): Record<string, string> {
  return (o.metadata?.['annotations'] as Record<string, string> | undefined) ?? {};
}

export function ownerRefsOf(o: KubeObject): OwnerReference[] {
  return (o.metadata?.['ownerReferences'] as OwnerReference[] | undefined) ?? [];
}

/** The owner reference with `controller: true`, if any. */
export function controllerRefOf(o: KubeObject): OwnerReference | undefined {
  return ownerRefsOf(o).find((r) => r.controller === true);
}

export function isControlledBy(o: KubeObject, owner: KubeObject): boolean {
  return controllerRefOf(o)?.uid === uidOf(owner);
}

/**
 * An informer's `keys` for objects a controller of `kind` creates: an event on one queues the owner that
 * controls it, so the owner sees its pods or revisions change; objects of other owners queue nothing.
 */
export function controllerKeysFor(kind: string): (o: KubeObject) => string[] {
  return (o) => {
    const ref = controllerRefOf(o);
    return ref?.kind === kind ? [`${namespaceOf(o)}/${ref.name}`] : [];
  };
}

/**
 * The owners of `kind` an event on `o` (`old`: its version before an update) concerns: the controller it
 * names before and after, or for an orphan every owner of its namespace whose selector matches it, since
 * that one may adopt it.
 */
export function ownerKeysConcerned(
  kind: string,
  owners: readonly KubeObject[],
  selectorOf: (owner: KubeObject) => LabelSelector | undefined,
  o: KubeObject,
  old: KubeObject | undefined,
): string[] {
  const keys = new Set<string>();
  for (const x of old === undefined ? [o] : [o, old]) {
    const ref = controllerRefOf(x);
    if (ref !== undefined) {
      if (ref.kind === kind) keys.add(`${namespaceOf(x)}/${ref.name}`);
      continue;
    }
    for (const owner of owners) {
      if (namespaceOf(owner) === namespaceOf(x) && selectorMatches(selectorOf(owner), labelsOf(x))) keys.add(keyOf(owner));
    }
  }
  return [...keys];
}

/** The reference a controller puts on what it creates (`blockOwnerDeletion` for foreground deletion). */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: nameOf(owner),
    uid: uidOf(owner),
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isBeingDeleted(o: KubeObject): boolean {
  return typeof o.metadata?.['deletionTimestamp'] === 'string';
}

/** Whether `labels` satisfy a LabelSelector; an empty selector matches everything, a missing one nothing. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(labels[e.key] ?? ''))) return false;
    if (e.operator === 'NotIn' && has && values.includes(labels[e.key] ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

type PodCondition = { type?: string; status?: string; lastTransitionTime?: string };

export function podPhase(pod: KubeObject): string {
  return ((pod['status'] as { phase?: string } | undefined)?.phase ?? '') || 'Pending';
}

/** Ready condition True (what ReplicaSets count as ready). */
export function isPodReady(pod: KubeObject): boolean {
  const conds = (pod['status'] as { conditions?: PodCondition[] } | undefined)?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Not finished and not being deleted: what controllers count towards their replicas. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !isBeingDeleted(pod);
}

/** API path of a namespaced collection or object: `/apis/apps/v1/namespaces/ns/deployments[/name]`. */
export function resourcePath(apiVersion: string, plural: string, namespace: string, name?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${ns}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
