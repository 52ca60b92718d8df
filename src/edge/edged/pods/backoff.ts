/**
 * kubelet's per-container back-off: the first restart is immediate; each later one waits `delay`, which starts at
 * `baseMs` and doubles up to `maxMs`; after `2 * maxMs` without a restart the delay resets.
 */
export class Backoff {
  #delayMs = 0;
  #lastAt = 0;
  readonly baseMs: number;
  readonly maxMs: number;

  constructor(baseMs: number, maxMs: number) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** When the next attempt is allowed (ms epoch); 0 = now. */
  nextAllowedAt(now = Date.now()): number {
    if (this.#delayMs === 0 || now - this.#lastAt > 2 * this.maxMs) return 0;
    return this.#lastAt + this.#delayMs;
  }

  /** Records an attempt at `now` and grows the delay for the following one. */
  attempted(now = Date.now()): void {
    if (this.#delayMs === 0 || now - this.#lastAt > 2 * this.maxMs) this.#delayMs = this.baseMs;
    else this.#delayMs = Math.min(this.#delayMs * 2, this.maxMs);
    this.#lastAt = now;
  }

  get currentDelayMs(): number {
    return this.#delayMs;
  }

  reset(): void {
    this.#delayMs = 0;
    this.#lastAt = 0;
  }
}
