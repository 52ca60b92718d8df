import type { Logger } from '../../core/log.ts';
import { buildResource, Operation } from '../../core/message.ts';
import type { Pod, PodStatus } from './pods/index.ts';
import type { MetaClient } from './metaclient.ts';

/** Reports in flight at once; metamanager forwards each to the cloud independently. */
const SEND_CONCURRENCY = 8;

type Pending = { kind: 'status'; pod: Pod; status: PodStatus } | { kind: 'deleted'; pod: Pod };

/**
 * Sends pod status (`podpatch`) and "containers gone" (`delete` with grace 0) to the cloud. Only the newest
 * report per pod is kept; what could not be sent (cloud away) is retried on reconnect and every few seconds,
 * so the API server catches up after an outage without replaying stale statuses.
 */
export class PodReporter {
  readonly #meta: MetaClient;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  readonly #senders = new Set<Promise<void>>();
  /** Pods with a send in flight. */
  readonly #inFlight = new Set<string>();
  /** Reports that failed since the last flush call; retried by the next one. */
  readonly #failed = new Set<Pending>();

  constructor(meta: MetaClient, log: Logger, retryMs = 5000) {
    this.#meta = meta;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), retryMs);
    this.#timer.unref();
  }

  status(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? '';
    if (this.#pending.get(uid)?.kind === 'deleted') return;
    this.#pending.set(uid, { kind: 'status', pod, status });
    void this.flush();
  }

  deleted(pod: Pod): void {
    this.#pending.set(pod.metadata.uid ?? '', { kind: 'deleted', pod });
    void this.flush();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /**
   * Sends what is pending, a few pods at once: each send waits for the cloud's answer, and one at a time the 20th
   * pod of a burst waited for the 19 before it. One send per pod in flight, so a pod's reports keep their order;
   * a report made while others are in flight goes out as soon as a sender is free, not on the retry timer.
   * Resolves when the senders running now are idle.
   */
  flush(): Promise<void> {
    // A new flush (a report, the timer, a reconnect) retries what failed before.
    this.#failed.clear();
    while (this.#senders.size < SEND_CONCURRENCY && this.#senders.size < this.#pending.size - this.#inFlight.size) {
      const s: Promise<void> = this.#sender().finally(() => this.#senders.delete(s));
      this.#senders.add(s);
    }
    return Promise.all([...this.#senders]).then(() => undefined);
  }

  #next(): [string, Pending] | undefined {
    for (const e of this.#pending) if (!this.#inFlight.has(e[0]) && !this.#failed.has(e[1])) return e;
    return undefined;
  }

  async #sender(): Promise<void> {
    // Yield first: reports made in the same tick (a burst of pods) are all pending before the senders pick.
    await Promise.resolve();
    for (let e = this.#next(); e !== undefined; e = this.#next()) {
      const [uid, p] = e;
      this.#inFlight.add(uid);
      try {
        await this.#send(p);
        if (this.#pending.get(uid) === p) this.#pending.delete(uid);
      } catch (err) {
        this.#failed.add(p);
        this.#log.debug({ pod: p.pod.metadata.name, err: String(err) }, 'pod report not delivered; will retry');
      } finally {
        this.#inFlight.delete(uid);
      }
    }
  }

  async #send(p: Pending): Promise<void> {
    const ns = p.pod.metadata.namespace ?? 'default';
    const name = p.pod.metadata.name ?? '';
    const uid = p.pod.metadata.uid ?? '';
    if (p.kind === 'status') {
      // As KubeEdge's edge sends it: a strategic-merge patch of the pod, as a JSON string.
      const patch = JSON.stringify({ metadata: { uid }, status: p.status });
      await this.#meta.request(Operation.patch, buildResource(ns, 'podpatch', name), patch);
      return;
    }
    await this.#meta.request(Operation.delete, buildResource(ns, 'pod', name), { gracePeriodSeconds: 0, preconditions: { uid } });
  }
}
