/**
 * A work queue of object keys, as controllers in Kubernetes use one: a key waits at most once however often it
 * is added, a key being worked on is never handed to a second worker (it is handed out again when the first is
 * done if it was added meanwhile), and a failing key comes back after an exponential backoff.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #shutDown = false;

  constructor(o: { baseDelayMs?: number; maxDelayMs?: number } = {}) {
    this.#baseDelayMs = o.baseDelayMs ?? 50;
    this.#maxDelayMs = o.maxDelayMs ?? 60_000;
  }

  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const w = this.#waiters.shift();
    if (w !== undefined) {
      this.#processing.add(key);
      w(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  /** Adds the key after `ms` (an earlier pending delay for it is kept if it fires sooner). */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = Date.now() + ms;
    const t = this.#timers.get(key) as (NodeJS.Timeout & { due?: number }) | undefined;
    if (t !== undefined && (t.due ?? 0) <= due) return;
    if (t !== undefined) clearTimeout(t);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms) as NodeJS.Timeout & { due?: number };
    timer.due = due;
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Re-adds a key whose work failed, after a delay that doubles with each consecutive failure. */
  retry(key: string): number {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    const delay = Math.min(this.#baseDelayMs * 2 ** (n - 1), this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key's work succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to work on; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Work on `key` is over; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  shutdown(): void {
    this.#shutDown = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}
