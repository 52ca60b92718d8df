import type { Logger } from '../../../core/log.ts';

/** Tells a running tick whether it still owns the loop (it was not superseded or stopped). */
export type StillCurrent = () => boolean;

/**
 * Runs `tick` now and then `intervalMs` after each run finishes. `trigger()` starts a fresh run at once and
 * abandons one in flight (its late results must be dropped by checking `stillCurrent`): a request lost on a
 * dying link must not delay the first status after a reconnect.
 */
export class Periodic {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #tick: (stillCurrent: StillCurrent) => Promise<void>;
  readonly #log: Logger;
  #gen = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(name: string, intervalMs: number, tick: (stillCurrent: StillCurrent) => Promise<void>, log: Logger) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#tick = tick;
    this.#log = log;
  }

  start(): void {
    this.#stopped = false;
    this.trigger();
  }

  trigger(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const gen = ++this.#gen;
    void this.#run(gen);
  }

  stop(): void {
    this.#stopped = true;
    this.#gen++;
    clearTimeout(this.#timer);
  }

  async #run(gen: number): Promise<void> {
    const current = (): boolean => !this.#stopped && gen === this.#gen;
    try {
      await this.#tick(current);
    } catch (err) {
      // Never fatal: the next tick retries.
      this.#log.warn({ loop: this.#name, err }, 'tick failed; retrying next period');
    }
    if (current()) this.#timer = setTimeout(() => this.trigger(), this.#intervalMs);
  }
}
