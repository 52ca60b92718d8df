import type { Logger } from '../../../core/log.ts';
import type { Module, ModuleContext } from '../../../core/module.ts';
import { KubeApiError, type KubeObject } from '../../../kube/rest.ts';
import type { Informer } from '../../common/informers/informer.ts';
import type { ControllerDeps } from '../index.ts';
import { keyOf, resourcePath, splitKey } from '../kit/objects.ts';
import { WorkQueue } from '../kit/queue.ts';

export type EventTtlOptions = {
  /** Events whose last occurrence is older than this are deleted (the API server's --event-ttl, 1 h). */
  ttlMs?: number;
  /** How often every cached event is looked at. */
  periodMs?: number;
};

const KINDS = [
  { apiVersion: 'v1', path: '/api/v1/events' },
  { apiVersion: 'events.k8s.io/v1', path: '/apis/events.k8s.io/v1/events' },
] as const;

/**
 * When an event last happened: its latest own timestamp (lastTimestamp, series.lastObservedTime, eventTime,
 * firstTimestamp, deprecatedLastTimestamp), else its creation; NaN when it has none.
 */
export function lastSeen(ev: KubeObject): number {
  const series = ev['series'] as { lastObservedTime?: unknown } | undefined;
  const own = [ev['lastTimestamp'], series?.lastObservedTime, ev['eventTime'], ev['firstTimestamp'], ev['deprecatedLastTimestamp']]
    .map((t) => (typeof t === 'string' ? Date.parse(t) : Number.NaN))
    .filter((t) => !Number.isNaN(t));
  if (own.length > 0) return Math.max(...own);
  return Date.parse(String(ev.metadata?.['creationTimestamp'] ?? ''));
}

/**
 * The API server's event TTL as a controller (the embedded server keeps events until deleted): core/v1 and
 * events.k8s.io/v1 Events that last happened more than `ttlMs` ago are deleted. It reads the shared informers'
 * caches, so a sweep costs no API request but the deletes; a new event that is already old goes at once.
 */
export class EventTtlController implements Module {
  readonly name = 'eventttl-controller';
  readonly group = 'controllers';
  readonly enabled = true;
  readonly #deps: ControllerDeps;
  readonly #informers: Informer[];
  readonly #queue = new WorkQueue({ baseDelayMs: 1000, maxDelayMs: 60_000 });
  readonly #ttlMs: number;
  readonly #periodMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #worker: Promise<void> | undefined;
  #started = false;

  constructor(deps: ControllerDeps, o: EventTtlOptions = {}) {
    this.#deps = deps;
    this.#ttlMs = o.ttlMs ?? 60 * 60_000;
    this.#periodMs = o.periodMs ?? 60_000;
    this.#log = deps.log(this.name);
    this.#informers = KINDS.map((k, i) => {
      const inf = deps.informers.informer({ path: k.path, kind: 'Event', apiVersion: k.apiVersion });
      inf.addHandler((type, ev) => {
        if (type !== 'delete' && this.#expired(ev, Date.now())) this.#queue.add(`${i}|${keyOf(ev)}`);
      });
      return inf;
    });
  }

  async start(_ctx: ModuleContext): Promise<void> {
    this.#started = true;
    this.#deps.informers.start();
    void (async () => {
      await Promise.all(this.#informers.map((i) => i.synced));
      if (!this.#started) return;
      this.#sweep();
      this.#timer = setInterval(() => this.#sweep(), this.#periodMs);
      this.#timer.unref();
      this.#worker = this.#work();
    })();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#timer);
    this.#queue.shutdown();
    await this.#worker;
    this.#deps.informers.stop();
  }

  #expired(ev: KubeObject, now: number): boolean {
    const t = lastSeen(ev);
    return !Number.isNaN(t) && now - t > this.#ttlMs;
  }

  #sweep(): void {
    const now = Date.now();
    this.#informers.forEach((inf, i) => {
      for (const ev of inf.list()) if (this.#expired(ev, now)) this.#queue.add(`${i}|${keyOf(ev)}`);
    });
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      const bar = key.indexOf('|');
      const i = Number(key.slice(0, bar));
      const { namespace, name } = splitKey(key.slice(bar + 1));
      const kind = KINDS[i];
      const ev = this.#informers[i]?.get(namespace, name);
      try {
        // Looked at again: it may have recurred (count raised, lastTimestamp now) since it was queued.
        if (kind !== undefined && ev !== undefined && this.#expired(ev, Date.now())) {
          await this.#deps.kube.delete(resourcePath(kind.apiVersion, 'events', namespace, name), {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            preconditions: { resourceVersion: ev.metadata?.resourceVersion },
          });
        }
        this.#queue.forget(key);
      } catch (err) {
        if (err instanceof KubeApiError && (err.statusCode === 404 || err.statusCode === 409)) this.#queue.forget(key);
        else this.#log.warn({ err, event: key, retryInMs: this.#queue.retry(key) }, 'expired event not deleted, retrying');
      } finally {
        this.#queue.done(key);
      }
    }
  }
}
