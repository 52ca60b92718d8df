import type { Logger } from '../../core/log.ts';
import { buildResource, Operation, type Message } from '../../core/message.ts';
import { edgeMetrics } from '../../metrics/edge.ts';
import { errorCode, unwrapReply } from '../metamanager/replies.ts';
import type { Pod, PodStatus } from './pods/index.ts';
import { EdgedRequestError } from './nodestatus/errors.ts';

type Report = { kind: 'status'; pod: Pod; status: PodStatus } | { kind: 'deleted'; pod: Pod };
/** One pod's newest report, with its delivery attempts so far and when the next one is due. */
type Entry = { report: Report; attempts: number; dueAt: number };

/** The part of MetaClient the reporter needs: one request through MetaManager. */
export type ReportSender = { request(operation: string, resource: string, content?: unknown): Promise<Message> };

export type PodReporterOptions = {
  /** First retry delay after a failed report; doubles per attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Reports sent at once (each may wait for the cloud's reply up to the request timeout). */
  parallel?: number;
};

/** Why a report failed, and whether another try could succeed. */
type Failure = { reason: string; code?: number; permanent: boolean; offline: boolean };

/**
 * Sends pod status (`podpatch`) and "containers gone" (`delete` with grace 0) to the cloud. Only the newest
 * report per pod is kept. A report counts as delivered only when the cloud accepted it: a reply carrying an
 * error (the API server restarting, a refusal by the node authorizer) is a failure like a timeout, retried with
 * backoff, and sent again at once on reconnect. Without that, a status refused once stayed lost until the
 * pod's status changed again, and a pod whose containers ran stayed Pending in the API.
 */
export class PodReporter {
  readonly #meta: ReportSender;
  readonly #log: Logger;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #parallel: number;
  readonly #pending = new Map<string, Entry>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #flushing = false;
  #again = false;
  #stopped = false;

  constructor(meta: ReportSender, log: Logger, o: PodReporterOptions = {}) {
    this.#meta = meta;
    this.#log = log;
    this.#baseMs = o.retryBaseMs ?? 1000;
    this.#maxMs = o.retryMaxMs ?? 30_000;
    this.#parallel = o.parallel ?? 8;
  }

  status(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? '';
    if (this.#pending.get(uid)?.report.kind === 'deleted') return;
    this.#put(uid, { kind: 'status', pod, status });
  }

  deleted(pod: Pod): void {
    this.#put(pod.metadata.uid ?? '', { kind: 'deleted', pod });
  }

  /** Reports not yet accepted by the cloud (for tests and diagnostics). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  /** The link is back: every pending report is due now, whatever its backoff said. */
  cloudConnected(): void {
    for (const e of this.#pending.values()) e.dueAt = 0;
    void this.flush();
  }

  /** Sends every report that is due; the rest wait for their backoff (a timer is set for the earliest). */
  async flush(): Promise<void> {
    if (this.#stopped) return;
    if (this.#flushing) {
      this.#again = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#again = false;
        const now = Date.now();
        const due = [...this.#pending].filter(([, e]) => e.dueAt <= now);
        for (let i = 0; i < due.length; i += this.#parallel) {
          await Promise.all(due.slice(i, i + this.#parallel).map(([uid, e]) => this.#deliver(uid, e)));
        }
      } while (this.#again && !this.#stopped);
    } finally {
      this.#flushing = false;
      this.#schedule();
    }
  }

  #put(uid: string, report: Report): void {
    // A newer report replaces the old one and starts its backoff afresh: it is news the cloud has not refused.
    this.#pending.set(uid, { report, attempts: 0, dueAt: 0 });
    void this.flush();
  }

  async #deliver(uid: string, e: Entry): Promise<void> {
    const kind = e.report.kind === 'status' ? 'status' : 'delete';
    const pod = `${e.report.pod.metadata.namespace ?? 'default'}/${e.report.pod.metadata.name ?? ''}`;
    const failure = await this.#send(e.report).then(
      (f) => f,
      (err: unknown): Failure => {
        const reason = err instanceof Error ? err.message : String(err);
        return { reason, permanent: false, offline: /cloud not connected|not connected/i.test(reason) };
      },
    );
    if (failure === undefined) {
      edgeMetrics.podReports.inc({ kind, outcome: 'ok' });
      if (this.#pending.get(uid) === e) this.#pending.delete(uid);
      if (e.attempts > 0) this.#log.info({ pod, kind, attempts: e.attempts + 1 }, 'pod report delivered after retries');
      return;
    }
    e.attempts++;
    if (failure.permanent) {
      edgeMetrics.podReports.inc({ kind, outcome: 'dropped' });
      if (this.#pending.get(uid) === e) this.#pending.delete(uid);
      this.#log.warn(
        { pod, kind, err: new EdgedRequestError(kind, pod, failure.reason, { statusCode: failure.code }) },
        'pod report refused for good (the pod is gone or was replaced); dropped',
      );
      return;
    }
    const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(e.attempts - 1, 20));
    e.dueAt = Date.now() + delay;
    if (failure.offline) {
      // Nothing was sent: the report waits for the link (reconnect flushes at once); not a refusal.
      edgeMetrics.podReports.inc({ kind, outcome: 'offline' });
      this.#log.debug({ pod, kind, attempts: e.attempts }, 'pod report waits for the cloud link');
      return;
    }
    edgeMetrics.podReports.inc({ kind, outcome: 'failed' });
    this.#log.warn(
      { pod, kind, attempts: e.attempts, retryInMs: delay, err: new EdgedRequestError(kind, pod, failure.reason, { statusCode: failure.code }) },
      'pod report not accepted by the cloud; will retry',
    );
  }

  /** undefined when the cloud accepted the report; otherwise why not. Throws when no reply came. */
  async #send(p: Report): Promise<Failure | undefined> {
    const ns = p.pod.metadata.namespace ?? 'default';
    const name = p.pod.metadata.name ?? '';
    const uid = p.pod.metadata.uid ?? '';
    if (p.kind === 'status') {
      // As KubeEdge's edge sends it: a strategic-merge patch of the pod, as a JSON string.
      const patch = JSON.stringify({ metadata: { uid }, status: p.status });
      const reply = await this.#meta.request(Operation.patch, buildResource(ns, 'podpatch', name), patch);
      return refusal(reply.content);
    }
    const reply = await this.#meta.request(Operation.delete, buildResource(ns, 'pod', name), { gracePeriodSeconds: 0, preconditions: { uid } });
    return refusal(reply.content);
  }

  #schedule(): void {
    if (this.#stopped || this.#pending.size === 0) {
      this.#clearTimer();
      return;
    }
    const at = Math.min(...[...this.#pending.values()].map((e) => e.dueAt));
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.flush();
      },
      Math.max(0, at - Date.now()),
    );
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The cloud's verdict in a reply (`{Object, Err}` for podpatch, "OK" or `{ErrStatus}` for a delete). A pod that
 * is gone (404) or was replaced under the same name (a UID precondition conflict) can never take this report.
 */
function refusal(content: unknown): Failure | undefined {
  const { err } = unwrapReply(content);
  if (err === null) return undefined;
  const code = errorCode(err);
  const status = (err['ErrStatus'] ?? {}) as { message?: unknown; reason?: unknown };
  const reason = typeof status.message === 'string' && status.message !== '' ? status.message : JSON.stringify(err).slice(0, 300);
  const uidConflict = code === 409 && /precondition/i.test(reason);
  return { reason, ...(code === undefined ? {} : { code }), permanent: code === 404 || uidConflict, offline: false };
}
