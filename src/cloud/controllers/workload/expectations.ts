import type { KubeObject } from '../../../kube/rest.ts';
import { isBeingDeleted, nameOf, uidOf } from '../kit/objects.ts';

/** How long a write may stay unseen in the caches before the controller stops waiting for it. */
const EXPECTATION_TTL_MS = 30_000;

type Pending = { creates: Set<string>; deletes: Set<string>; at: number };

/**
 * Writes a controller made that its informers have not shown yet (Kubernetes' ControllerExpectations):
 * until the caches show them, a reconcile would count from stale state and create or delete twice.
 */
export class Expectations {
  readonly #pending = new Map<string, Pending>();

  expectCreate(key: string, name: string): void {
    this.#entry(key).creates.add(name);
  }

  expectDelete(key: string, uid: string): void {
    this.#entry(key).deletes.add(uid);
  }

  /**
   * Whether the caches caught up with every expected write of `key`: `seen(name)` tells an expected creation
   * appeared, `gone(uid)` an expected deletion took effect. Old expectations lapse.
   */
  satisfied(key: string, seen: (name: string) => boolean, gone: (uid: string) => boolean): boolean {
    const p = this.#pending.get(key);
    if (p === undefined) return true;
    for (const n of p.creates) if (seen(n)) p.creates.delete(n);
    for (const u of p.deletes) if (gone(u)) p.deletes.delete(u);
    if ((p.creates.size === 0 && p.deletes.size === 0) || Date.now() - p.at > EXPECTATION_TTL_MS) {
      this.#pending.delete(key);
      return true;
    }
    return false;
  }

  /**
   * `satisfied` for pod writes, given the owner's pods as the cache holds them: a pod being deleted counts as
   * gone, since its deletion was what the controller asked for.
   */
  podsObserved(key: string, pods: KubeObject[]): boolean {
    const seen = new Set(pods.map(nameOf));
    const live = new Set(pods.filter((p) => !isBeingDeleted(p)).map(uidOf));
    return this.satisfied(
      key,
      (n) => seen.has(n),
      (u) => !live.has(u),
    );
  }

  /** A write that failed will never be seen. */
  lowerCreate(key: string, name: string): void {
    this.#pending.get(key)?.creates.delete(name);
  }

  forget(key: string): void {
    this.#pending.delete(key);
  }

  #entry(key: string): Pending {
    let p = this.#pending.get(key);
    if (p === undefined) {
      p = { creates: new Set(), deletes: new Set(), at: Date.now() };
      this.#pending.set(key, p);
    }
    p.at = Date.now();
    return p;
  }
}
