import type { Logger } from '../../core/log.ts';
import { buildResource, Operation } from '../../core/message.ts';
import type { Pod, PodStatus } from './pods/index.ts';
import type { MetaClient } from './metaclient.ts';

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
  #flushing = false;

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

  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (const [uid, p] of [...this.#pending]) {
        try {
          await this.#send(p);
          if (this.#pending.get(uid) === p) this.#pending.delete(uid);
        } catch (err) {
          this.#log.debug({ pod: p.pod.metadata.name, err: String(err) }, 'pod report not delivered; will retry');
        }
      }
    } finally {
      this.#flushing = false;
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
