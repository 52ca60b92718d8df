import type { Logger } from '../../core/log.ts';
import { isNotFound, KubeApiError, type KubeObject } from '../../kube/rest.ts';
import { applyChange, mergeChange, statusPatch, type DeviceStatus, type StatusChange, type Urgency } from './status.ts';

/** An edge report waiting for its confirmation. */
export type PendingAck = { nodeId: string; msgId: string };

export type StatusWriterOptions = {
  /** Merge-patches a Device (`/apis/devices.kubeedge.io/v1beta1/namespaces/<ns>/devices/<name>`) and returns it. */
  patch(namespace: string, name: string, body: unknown): Promise<KubeObject>;
  /** The informer's copy of a Device. */
  current(namespace: string, name: string): KubeObject | undefined;
  /** Confirms reports to their edges once what they said is in the API server (or needs no write). */
  ack(acks: PendingAck[]): void;
  log: Logger;
  /** At most one status write per device per this many ms when values change. */
  intervalMs: number;
  /** A last-online time that alone moved is written at most this often per device. */
  lazyIntervalMs: number;
  /** Devices with an unwritten status at most (KubeEdge's `buffer.updateDeviceStatus`); reports beyond are refused. */
  maxPending: number;
  /** Status writes in flight at most (KubeEdge's `load.updateDeviceStatusWorkers`). */
  workers: number;
};

export type StatusWriterStats = {
  /** Status writes sent to the API server. */
  writes: number;
  /** Reports that changed nothing: confirmed without a write. */
  unchanged: number;
  /** Reports folded into a write already waiting. */
  coalesced: number;
  /** Reports refused because `maxPending` devices were waiting (not confirmed: the edge sends them again). */
  refused: number;
  failed: number;
};

type Entry = {
  namespace: string;
  name: string;
  change: StatusChange;
  acks: PendingAck[];
  urgency: Urgency;
  timer: NodeJS.Timeout | undefined;
  queued: boolean;
};
type Written = { rv: string; status: DeviceStatus | undefined; at: number };

/**
 * Writes what edges report into Device statuses without a write storm: reports for a device are folded together
 * until its next write is due (`intervalMs` after the previous one), a write happens only when a value, the
 * state or (rarely) the last online time differs from what the API server has, and at most `workers` writes are
 * in flight. Edges get their confirmation once the write is done, so a report lost to a failed write is resent.
 */
export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #pending = new Map<string, Entry>();
  readonly #written = new Map<string, Written>();
  readonly #ready: Entry[] = [];
  readonly #inflight = new Set<string>();
  /** Failed writes in a row and when the next try is due, per device (doubling up to 30 s). */
  readonly #retry = new Map<string, { failures: number; at: number }>();
  readonly #running = new Set<Promise<void>>();
  readonly #stats: StatusWriterStats = { writes: 0, unchanged: 0, coalesced: 0, refused: 0, failed: 0 };
  #stopped = false;

  constructor(o: StatusWriterOptions) {
    this.#o = o;
  }

  stats(): StatusWriterStats {
    return { ...this.#stats };
  }

  /** Takes a report; `refused` means not taken (too many devices waiting) and not to be confirmed. */
  offer(namespace: string, name: string, change: StatusChange, ack: PendingAck): 'taken' | 'unchanged' | 'refused' {
    const key = `${namespace}/${name}`;
    let e = this.#pending.get(key);
    if (e === undefined) {
      const urgency = applyChange(this.#base(namespace, name), change).urgency;
      if (urgency === 'none') {
        this.#stats.unchanged++;
        this.#o.ack([ack]);
        return 'unchanged';
      }
      if (this.#pending.size >= this.#o.maxPending) {
        this.#stats.refused++;
        return 'refused';
      }
      e = { namespace, name, change, acks: [ack], urgency, timer: undefined, queued: false };
      this.#pending.set(key, e);
    } else {
      this.#stats.coalesced++;
      mergeChange(e.change, change);
      e.acks.push(ack);
      const urgency = applyChange(this.#base(namespace, name), e.change).urgency;
      if (urgency === e.urgency || e.urgency === 'now') return 'taken';
      e.urgency = urgency;
    }
    this.#schedule(key, e);
    return 'taken';
  }

  /** The device is gone: drop what waits for it (its reports are confirmed: there is nothing left to write). */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const e = this.#pending.get(key);
    if (e !== undefined) {
      clearTimeout(e.timer);
      this.#pending.delete(key);
      this.#o.ack(e.acks);
    }
    this.#written.delete(key);
    this.#retry.delete(key);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const e of this.#pending.values()) clearTimeout(e.timer);
    await Promise.allSettled([...this.#running]);
  }

  /** What the API server has: the informer's copy, or what the last write returned if the informer is behind. */
  #base(namespace: string, name: string): DeviceStatus | undefined {
    const cur = this.#o.current(namespace, name);
    const w = this.#written.get(`${namespace}/${name}`);
    if (w !== undefined && (cur === undefined || compareRv(w.rv, cur.metadata?.resourceVersion) > 0)) return w.status;
    return (cur as { status?: DeviceStatus } | undefined)?.status;
  }

  #schedule(key: string, e: Entry): void {
    clearTimeout(e.timer);
    e.timer = undefined;
    if (e.queued || this.#stopped) return;
    const last = this.#written.get(key)?.at;
    const gap = e.urgency === 'now' ? this.#o.intervalMs : this.#o.lazyIntervalMs;
    const retryAt = this.#retry.get(key)?.at ?? 0;
    const wait = Math.max(last === undefined ? 0 : last + gap - Date.now(), retryAt - Date.now());
    if (wait <= 0 && !this.#inflight.has(key)) this.#enqueue(e);
    else e.timer = setTimeout(() => this.#enqueue(e), Math.max(wait, 10));
  }

  #enqueue(e: Entry): void {
    const key = `${e.namespace}/${e.name}`;
    e.timer = undefined;
    if (this.#stopped || this.#pending.get(key) !== e) return;
    if (this.#inflight.has(key)) {
      // Its previous write is still out; that write's end schedules this one.
      return;
    }
    e.queued = true;
    this.#ready.push(e);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#o.workers && this.#ready.length > 0) {
      const e = this.#ready.shift();
      if (e === undefined) break;
      const p = this.#write(e).finally(() => this.#running.delete(p));
      this.#running.add(p);
    }
  }

  async #write(e: Entry): Promise<void> {
    const key = `${e.namespace}/${e.name}`;
    this.#pending.delete(key);
    this.#inflight.add(key);
    try {
      const { status, urgency } = applyChange(this.#base(e.namespace, e.name), e.change);
      if (urgency === 'none') {
        this.#stats.unchanged++;
        this.#o.ack(e.acks);
        return;
      }
      try {
        const obj = await this.#o.patch(e.namespace, e.name, statusPatch(status));
        this.#stats.writes++;
        this.#retry.delete(key);
        this.#written.set(key, { rv: obj.metadata?.resourceVersion ?? '', status: (obj as { status?: DeviceStatus }).status, at: Date.now() });
        this.#o.ack(e.acks);
      } catch (err) {
        if (isNotFound(err)) {
          this.#o.ack(e.acks);
          this.#written.delete(key);
          return;
        }
        this.#stats.failed++;
        if (isRefused(err)) {
          // The API server will not take this status (invalid, forbidden): retrying cannot help. Unconfirmed, the
          // edge sends the values again later.
          this.#o.log.warn({ err, device: key }, 'device status write refused; reports dropped');
          return;
        }
        const failures = (this.#retry.get(key)?.failures ?? 0) + 1;
        const delay = Math.min(this.#o.intervalMs * 2 ** failures, 30_000);
        this.#retry.set(key, { failures, at: Date.now() + delay });
        this.#o.log.warn({ err, device: key, retryInMs: delay }, 'device status write failed; retrying');
        // Put it back under newer reports that came meanwhile; their values win.
        const newer = this.#pending.get(key);
        const back: Entry =
          newer === undefined
            ? { ...e, queued: false, timer: undefined }
            : { ...newer, change: mergeChange(e.change, newer.change), acks: [...e.acks, ...newer.acks] };
        if (newer !== undefined) clearTimeout(newer.timer);
        back.urgency = 'now';
        this.#pending.set(key, back);
      }
    } finally {
      this.#inflight.delete(key);
      const next = this.#pending.get(key);
      if (next !== undefined) this.#schedule(key, next);
      this.#pump();
    }
  }
}

/** etcd revisions compare as integers; anything else counts as 0 (never newer than a known one). */
function compareRv(a: string | undefined, b: string | undefined): number {
  const n = (v: string | undefined): bigint => (v !== undefined && /^\d{1,30}$/.test(v) ? BigInt(v) : 0n);
  const x = n(a);
  const y = n(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A client error other than a conflict or throttling: the same write would be refused again. */
function isRefused(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 409 && err.statusCode !== 429;
}
