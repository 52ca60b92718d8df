import type { KubeObject } from '../../../kube/rest.ts';
import { isBeingDeleted, ownerRefsOf, uidOf, type OwnerReference } from '../kit/objects.ts';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** An object in the graph: its work-queue key and its latest cached state. */
export type GraphNode = { key: string; obj: KubeObject };

/**
 * The owner graph over every followed kind, by uid: who exists, and who names whom as owner. Kept up to date
 * from informer events; an owner's dependents are found without scanning every cache.
 */
export class OwnerGraph {
  readonly #byUid = new Map<string, GraphNode>();
  /** owner uid → uids of objects naming it in ownerReferences. */
  readonly #dependents = new Map<string, Set<string>>();

  /** Records an add or update (the owners it names replace those it named before). */
  set(key: string, obj: KubeObject): void {
    const uid = uidOf(obj);
    if (uid === '') return;
    const before = this.#byUid.get(uid);
    if (before !== undefined) this.#unlink(uid, before.obj);
    this.#byUid.set(uid, { key, obj });
    for (const r of ownerRefsOf(obj)) {
      let set = this.#dependents.get(r.uid);
      if (set === undefined) this.#dependents.set(r.uid, (set = new Set()));
      set.add(uid);
    }
  }

  remove(obj: KubeObject): void {
    const uid = uidOf(obj);
    const node = this.#byUid.get(uid);
    if (node === undefined) return;
    this.#unlink(uid, node.obj);
    this.#byUid.delete(uid);
  }

  get(uid: string): GraphNode | undefined {
    return this.#byUid.get(uid);
  }

  /** The cached objects naming `uid` as owner. */
  dependents(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.#dependents.get(uid) ?? []) {
      const n = this.#byUid.get(d);
      if (n !== undefined) out.push(n);
    }
    return out;
  }

  #unlink(uid: string, obj: KubeObject): void {
    for (const r of ownerRefsOf(obj)) {
      const set = this.#dependents.get(r.uid);
      set?.delete(uid);
      if (set?.size === 0) this.#dependents.delete(r.uid);
    }
  }
}

export function finalizersOf(o: KubeObject): string[] {
  const f = o.metadata?.['finalizers'];
  return Array.isArray(f) ? f.map(String) : [];
}

/** Being deleted and waiting for its blocking dependents to go first. */
export function waitsForDependents(o: KubeObject): boolean {
  return isBeingDeleted(o) && finalizersOf(o).includes(FOREGROUND_FINALIZER);
}

/** What an owner reference resolves to: there (solid), there but deleting in foreground, or gone. */
export type OwnerState = 'solid' | 'waiting' | 'dangling' | 'unknown';

/**
 * Kubernetes' garbage-collector decision for a dependent, from the state of each of its owners: with a solid
 * owner it stays (references to gone or foreground-deleting owners are dropped); with none it is deleted, in
 * foreground when an owner waits for it and it has dependents of its own; an owner whose kind cannot be
 * resolved keeps it (never delete on doubt).
 */
export type Decision = { action: 'keep' } | { action: 'dropRefs'; uids: string[] } | { action: 'delete'; policy: 'Background' | 'Foreground' | undefined };

export function decide(dependent: KubeObject, states: Map<string, OwnerState>, hasDependents: boolean): Decision {
  const refs = ownerRefsOf(dependent);
  if (refs.length === 0) return { action: 'keep' };
  const by = (s: OwnerState) => refs.filter((r: OwnerReference) => states.get(r.uid) === s).map((r) => r.uid);
  if (by('unknown').length > 0) return { action: 'keep' };
  const solid = by('solid');
  const waiting = by('waiting');
  const dangling = by('dangling');
  if (solid.length > 0) return dangling.length + waiting.length > 0 ? { action: 'dropRefs', uids: [...dangling, ...waiting] } : { action: 'keep' };
  if (waiting.length > 0 && hasDependents) return { action: 'delete', policy: 'Foreground' };
  // An object carrying its own propagation finalizer keeps the policy it was given.
  const own = finalizersOf(dependent);
  const policy = own.includes(ORPHAN_FINALIZER) || own.includes(FOREGROUND_FINALIZER) ? undefined : 'Background';
  return { action: 'delete', policy };
}
