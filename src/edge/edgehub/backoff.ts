export type BackoffOptions = { initialMs: number; maxMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/**
 * Exponential backoff with full jitter: after the n-th consecutive failure wait a uniform random time in
 * [0, min(max, initial * 2^n)]. Full jitter spreads a fleet of edges that lost the same cloudcore at once.
 */
export class Backoff {
  readonly #o: BackoffOptions;
  #attempt = 0;

  constructor(o: BackoffOptions = DEFAULT_BACKOFF) {
    this.#o = o;
  }

  next(random: () => number = Math.random): number {
    const cap = Math.min(this.#o.maxMs, this.#o.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.floor(random() * cap);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempt(): number {
    return this.#attempt;
  }
}
