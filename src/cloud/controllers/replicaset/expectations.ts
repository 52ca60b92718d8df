/** After this long an expectation is given up (a lost watch event must not freeze a ReplicaSet forever). */
const EXPECTATION_TTL_MS = 5 * 60_000;

type Expectation = { adds: number; deletes: Set<string>; at: number };

/**
 * What a controller is still waiting to see in its cache after its own writes (Kubernetes' ControllerExpectations).
 * Until every create and delete it made has come back through the informer, the cache under-counts or over-counts
 * its pods, and acting on it would create or delete twice.
 */
export class Expectations {
  readonly #m = new Map<string, Expectation>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  expectCreations(key: string, n: number): void {
    this.#m.set(key, { adds: n, deletes: new Set(), at: this.#now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.#m.set(key, { adds: 0, deletes: new Set(podKeys), at: this.#now() });
  }

  /** A pod of `key` appeared in the cache, or a create failed and will not appear. */
  creationObserved(key: string): void {
    const e = this.#m.get(key);
    if (e !== undefined && e.adds > 0) e.adds--;
  }

  /** `podKey` is gone or being deleted (each pod lowers the count once, however many events say so). */
  deletionObserved(key: string, podKey: string): void {
    this.#m.get(key)?.deletes.delete(podKey);
  }

  satisfied(key: string): boolean {
    const e = this.#m.get(key);
    if (e === undefined) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.#now() - e.at > EXPECTATION_TTL_MS;
  }

  forget(key: string): void {
    this.#m.delete(key);
  }
}
