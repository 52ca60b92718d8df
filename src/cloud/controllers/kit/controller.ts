import { logger, type Logger } from '../../../core/log.ts';
import type { Module, ModuleContext } from '../../../core/module.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import type { InformerEventType } from '../../common/informers/informer.ts';
import type { CloudInformers, InformerView } from '../../common/informers/informers.ts';
import { keyOf } from './objects.ts';
import { WorkQueue } from './queue.ts';

/** What reconcile asks for: nothing (done until the next event), or another look after a delay. */
export type ReconcileResult = undefined | { requeueAfterMs: number };

/** One informer a controller follows, and the keys of its own objects an event concerns (default: the object's). */
export type Watch = {
  informer: InformerView;
  keys?: (obj: KubeObject, type: InformerEventType, old: KubeObject | undefined) => string[];
};

export type ControllerOptions = {
  /** kube-controller-manager's name of the controller (`deployment`); the module is `<name>-controller`. */
  name: string;
  informers: CloudInformers;
  /** The first watch is the controller's own kind; resync re-reads every object of it. */
  watches: Watch[];
  /** Level-triggered: read the current state of `key` (`namespace/name`) from the caches and act on it. */
  reconcile: (key: string) => Promise<ReconcileResult>;
  workers?: number;
  /** Re-queue every object of the first watch this often (time-based work: CronJobs, TTLs). */
  resyncMs?: number;
  log?: Logger;
};

/**
 * A controller as cloudcore module: follows shared informers, queues the keys events concern, and reconciles
 * each with a few workers once every followed informer has listed (so a restart resumes from the full current
 * state, never from half of it). A reconcile that throws is retried with backoff, logged with the key.
 */
export class Controller implements Module {
  readonly name: string;
  readonly group = 'controllers';
  readonly enabled = true;
  readonly queue = new WorkQueue();
  readonly #o: ControllerOptions;
  readonly #log: Logger;
  #workers: Promise<void>[] = [];
  #resync: NodeJS.Timeout | undefined;
  #started = false;

  /** Adds the informer handlers at once, before anything starts the informers, so they see the first list. */
  constructor(o: ControllerOptions) {
    this.#o = o;
    this.name = `${o.name}-controller`;
    this.#log = o.log ?? logger(this.name);
    for (const w of o.watches) {
      w.informer.addHandler((type, obj, old) => {
        const keys = w.keys === undefined ? [keyOf(obj)] : w.keys(obj, type, old);
        for (const k of keys) this.queue.add(k);
      });
    }
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  async start(_ctx: ModuleContext): Promise<void> {
    this.#started = true;
    this.#o.informers.start();
    void this.#run();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#resync);
    this.queue.shutdown();
    await Promise.all(this.#workers);
    this.#o.informers.stop();
  }

  async #run(): Promise<void> {
    await Promise.all(this.#o.watches.map((w) => w.informer.synced));
    if (!this.#started) return;
    const primary = this.#o.watches[0];
    if (this.#o.resyncMs !== undefined && primary !== undefined) {
      this.#resync = setInterval(() => {
        for (const o of primary.informer.list()) this.queue.add(keyOf(o));
      }, this.#o.resyncMs);
      this.#resync.unref();
    }
    this.#workers = Array.from({ length: this.#o.workers ?? 2 }, () => this.#work());
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const r = await this.#o.reconcile(key);
        this.queue.forget(key);
        if (r !== undefined) this.queue.addAfter(key, r.requeueAfterMs);
      } catch (err) {
        const retryInMs = this.queue.retry(key);
        this.#log.warn({ err, key, retryInMs }, 'reconcile failed, retrying');
      } finally {
        this.queue.done(key);
      }
    }
  }
}
