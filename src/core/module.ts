import type { Bus } from './bus.ts';
import type { Logger } from './log.ts';

/**
 * A beehive-style module: owns one folder, talks to the others only through the bus.
 * `start` resolves once the module is serving; long-running loops keep going until `stop`.
 */
export type Module = {
  readonly name: string;
  readonly group: string;
  readonly enabled: boolean;
  start(ctx: ModuleContext): Promise<void>;
  stop(): Promise<void>;
};

export type ModuleContext = {
  bus: Bus;
  log: Logger;
  signal: AbortSignal;
};

/**
 * Starts modules in order and stops them in reverse. A module that fails to start stops the ones already
 * started and rethrows, so the daemon exits with a clear message instead of half-running.
 */
export class ModuleRuntime {
  readonly #modules: Module[] = [];
  readonly #started: Module[] = [];
  readonly #abort = new AbortController();
  readonly #bus: Bus;
  readonly #log: Logger;

  constructor(bus: Bus, log: Logger) {
    this.#bus = bus;
    this.#log = log;
  }

  add(m: Module): void {
    this.#modules.push(m);
  }

  async start(): Promise<void> {
    for (const m of this.#modules) {
      if (!m.enabled) {
        this.#log.info({ module: m.name }, 'module disabled');
        continue;
      }
      try {
        await m.start({ bus: this.#bus, log: this.#log.child({ module: m.name }), signal: this.#abort.signal });
        this.#started.push(m);
        this.#log.info({ module: m.name, group: m.group }, 'module started');
      } catch (err) {
        this.#log.error({ module: m.name, err }, 'module failed to start');
        await this.stop();
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    while (this.#started.length > 0) {
      const m = this.#started.pop();
      if (m === undefined) break;
      try {
        await m.stop();
      } catch (err) {
        this.#log.warn({ module: m.name, err }, 'module failed to stop cleanly');
      }
    }
    this.#bus.close();
  }
}
