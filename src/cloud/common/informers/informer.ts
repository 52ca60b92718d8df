import type { Logger } from '../../../core/log.ts';
import { k8s } from '../../../kube/client.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';

export type InformerEventType = 'add' | 'update' | 'delete';
export type InformerHandler = (type: InformerEventType, obj: KubeObject, old: KubeObject | undefined) => void;

export type InformerOptions = {
  kc: k8s.KubeConfig;
  kube: KubeRest;
  /** Collection path, e.g. `/api/v1/pods` (all namespaces). */
  path: string;
  kind: string;
  apiVersion: string;
  labelSelector?: string;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
};

type WatchStatus = { code?: number; reason?: string; message?: string };
type ListResult = { metadata?: { resourceVersion?: string }; items?: KubeObject[] };

export function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/**
 * List + watch of one collection with a local cache, in raw JSON (client-node's typed models would alter the
 * objects the edge receives). Resumes the watch from the last resourceVersion seen; re-lists when the server
 * says 410 Gone, emitting what changed meanwhile (deletes included); backs off on errors.
 */
export class Informer {
  readonly #o: InformerOptions;
  readonly #cache = new Map<string, KubeObject>();
  readonly #handlers: InformerHandler[] = [];
  #rv = '';
  #stopped = false;
  #abort: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #resolveSynced: () => void = () => {};
  #listed = false;
  /** Resolves after the first complete list has been delivered. */
  readonly synced: Promise<void>;

  constructor(o: InformerOptions) {
    this.#o = o;
    this.#delay = o.backoff?.initialMs ?? 500;
    this.synced = new Promise((r) => (this.#resolveSynced = r));
  }

  /** The collection this informer lists, e.g. `/api/v1/pods`. */
  get path(): string {
    return this.#o.path;
  }

  get kind(): string {
    return this.#o.kind;
  }

  /** True once the first complete list has been delivered (a cache that may still be empty for want of a list is not). */
  get listed(): boolean {
    return this.#listed;
  }

  /**
   * Adds a handler for every later event. Handlers are added before `start` (each module that reads events
   * adds its own when it is built), so every handler sees the first list as `add` events.
   */
  addHandler(h: InformerHandler): void {
    this.#handlers.push(h);
  }

  start(): void {
    void this.#relist();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#resolveSynced();
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.#cache.get(`${namespace}/${name}`);
  }

  list(): KubeObject[] {
    return [...this.#cache.values()];
  }

  #query(): string {
    const q = new URLSearchParams();
    if (this.#o.labelSelector !== undefined) q.set('labelSelector', this.#o.labelSelector);
    const s = q.toString();
    return s === '' ? this.#o.path : `${this.#o.path}?${s}`;
  }

  #typed(o: KubeObject): KubeObject {
    return { ...o, kind: this.#o.kind, apiVersion: this.#o.apiVersion };
  }

  #emit(type: InformerEventType, obj: KubeObject, old: KubeObject | undefined): void {
    for (const h of this.#handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.#o.log.error({ kind: this.#o.kind, key: keyOf(obj), err }, 'informer handler threw');
      }
    }
  }

  async #relist(): Promise<void> {
    if (this.#stopped) return;
    let list: ListResult;
    try {
      list = await this.#o.kube.get<ListResult>(this.#query());
    } catch (err) {
      this.#retry(() => this.#relist(), err, 'list');
      return;
    }
    if (this.#stopped) return;
    const seen = new Set<string>();
    for (const raw of list.items ?? []) {
      const o = this.#typed(raw);
      const k = keyOf(o);
      seen.add(k);
      const old = this.#cache.get(k);
      this.#cache.set(k, o);
      if (old === undefined) this.#emit('add', o, undefined);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.#emit('update', o, old);
    }
    for (const [k, old] of this.#cache) {
      if (seen.has(k)) continue;
      this.#cache.delete(k);
      this.#emit('delete', old, old);
    }
    this.#rv = list.metadata?.resourceVersion ?? '';
    this.#listed = true;
    this.#resolveSynced();
    void this.#watch();
  }

  async #watch(): Promise<void> {
    if (this.#stopped) return;
    let gone = false;
    let gotEvent = false;
    const w = new k8s.Watch(this.#o.kc);
    const params: Record<string, string | number | boolean | undefined> = {
      resourceVersion: this.#rv,
      allowWatchBookmarks: true,
      timeoutSeconds: 240 + Math.floor(Math.random() * 120),
      labelSelector: this.#o.labelSelector,
    };
    const done = (err: unknown): void => {
      this.#abort = undefined;
      if (this.#stopped) return;
      if (gone) {
        this.#o.log.info({ kind: this.#o.kind, rv: this.#rv }, 'watch expired (410), re-listing');
        void this.#relist();
      } else if (isInactivityTimeout(err)) {
        // client-node ends a watch after 30 s without bytes; a real API server may send bookmarks less often.
        void this.#watch();
      } else if (!gotEvent) {
        // Nothing arrived (not even a bookmark): an error or a server closing at once; don't spin.
        this.#retry(() => this.#watch(), err ?? new Error('watch closed without events'), 'watch');
      } else {
        if (gotEvent) this.#delay = this.#o.backoff?.initialMs ?? 500;
        void this.#watch();
      }
    };
    try {
      this.#abort = await w.watch(
        this.#o.path,
        params,
        (phase: string, obj: unknown) => {
          gotEvent = true;
          this.#onWatchEvent(phase, obj, () => (gone = true));
        },
        done,
      );
    } catch (err) {
      done(err);
    }
    if (this.#stopped) this.#abort?.abort();
  }

  #onWatchEvent(phase: string, obj: unknown, markGone: () => void): void {
    if (typeof obj !== 'object' || obj === null) return;
    const raw = obj as KubeObject;
    if (phase === 'ERROR') {
      const st = raw as WatchStatus;
      if (st.code === 410 || st.reason === 'Expired' || st.reason === 'Gone') markGone();
      else this.#o.log.warn({ kind: this.#o.kind, status: st }, 'watch error event');
      return;
    }
    const rv = raw.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv !== '') this.#rv = rv;
    if (phase === 'BOOKMARK') return;
    const o = this.#typed(raw);
    const k = keyOf(o);
    const old = this.#cache.get(k);
    if (phase === 'DELETED') {
      this.#cache.delete(k);
      this.#emit('delete', o, old);
    } else if (phase === 'ADDED' || phase === 'MODIFIED') {
      this.#cache.set(k, o);
      this.#emit(old === undefined ? 'add' : 'update', o, old);
    }
  }

  #retry(fn: () => Promise<void>, err: unknown, what: string): void {
    if (this.#stopped) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#o.backoff?.maxMs ?? 30_000);
    this.#o.log.warn({ kind: this.#o.kind, what, err, retryInMs: delay }, 'informer error, retrying');
    this.#timer = setTimeout(() => void fn(), delay);
  }
}

function isInactivityTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}
