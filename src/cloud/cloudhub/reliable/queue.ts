import type { Logger } from '../../../core/log.ts';
import { Operation, type Message } from '../../../core/message.ts';
import { edgeFingerprint } from '../../common/pod-changes.ts';
import { needsAck } from './needs-ack.ts';
import type { Acked, ObjectRef } from './objectsync.ts';
import { compareRv } from './rv.ts';
import { cloudMetrics, setQueueDepthProvider } from '../../../metrics/cloud.ts';
import { secondsSince } from '../../../metrics/labels.ts';

/** What the queue needs from CloudHub: a way to write to a node and to know whether it is there. */
export type NodeLink = {
  dispatch(nodeId: string, msg: Message): Promise<boolean>;
  isConnected(nodeId: string): boolean;
};

/** Where acked resourceVersions live (ObjectSyncStore in production). */
export type AckRecordStore = {
  acked(nodeId: string, ref: Pick<ObjectRef, 'namespace' | 'uid'>): Promise<Acked | undefined>;
  record(nodeId: string, ref: ObjectRef, acked: Acked): Promise<void>;
  remove(nodeId: string, ref: Pick<ObjectRef, 'namespace' | 'uid'>): Promise<void>;
};

export type ReliableQueueOptions = {
  store: AckRecordStore;
  link: NodeLink;
  log: Logger;
  /** Resend interval while unacked (KubeEdge: 5 s). */
  retryIntervalMs?: number;
  /** Resends before the message goes back to the queue (KubeEdge: 4). */
  maxRetries?: number;
  /** Pause before a message that exhausted its resends is tried again. */
  requeueDelayMs?: number;
  /** First pause before an ObjectSync write that failed is tried again (doubling up to 30 s). */
  recordRetryMs?: number;
};

export type ReliableStats = {
  queued: number;
  sent: number;
  resent: number;
  acked: number;
  /**
   * Offers dropped because a newer (or the same) version was already queued, in flight or acked, or because
   * the edge's acked copy has the same metadata and spec (a pod whose status alone moved on).
   */
  stale: number;
  /** Objects the edge got in query replies (stored there like a push), recorded as acked. */
  noted: number;
  /** Reliable messages without a resourceVersion (KubeEdge drops those too). */
  dropped: number;
};

type Entry = { ref: ObjectRef; op: string; rv: string; fingerprint: string | undefined; msg: Message };

/** Objects an edge stores when it gets them in a query reply (KubeEdge's metamanager does for these). */
const STORED_REPLY_KINDS = new Set(['ConfigMap', 'Secret']);
type Inflight = { entry: Entry; attempts: number; timer: NodeJS.Timeout | undefined; sentAt?: bigint };
type Slot = {
  /** What the node acked of this object; undefined = none known (never acked, or not loaded yet). */
  acked: Acked | undefined;
  loaded: boolean;
  loading: Promise<void> | undefined;
  pending: Entry | undefined;
  inflight: Inflight | undefined;
  /**
   * A delete was acked: later messages for this UID are stale, except an insert at least as new as the delete
   * (a device moved back to the node, a device model sent again for a new device: the same object returns).
   */
  deleted: boolean;
  deletedRv: string;
  requeueTimer: NodeJS.Timeout | undefined;
};

/**
 * Per-node reliable delivery after KubeEdge's ObjectSync design. Each node has one slot per object UID holding
 * at most one message in flight and one waiting; a newer version replaces a waiting older one. A message in
 * flight is resent every `retryIntervalMs` until the edge acks it (`response` with `parent_msg_id` = its id);
 * the acked RV (and, for a pod, the fingerprint of its metadata and spec) is then written to the node's
 * ObjectSync. Nothing older than what a node acked is ever sent, nor a pod whose metadata and spec equal the
 * acked ones; what was acked is read from the ObjectSync before the first send, so a restarted cloudcore resends
 * nothing the edge already has. Waiting messages survive disconnects and go out on reconnect. The queue notes
 * deliveries itself: acks of what it sent, and the ConfigMaps/Secrets the edge got in query replies.
 */
export class ReliableQueue {
  readonly #o: Required<Omit<ReliableQueueOptions, 'store' | 'link' | 'log'>>;
  readonly #store: AckRecordStore;
  readonly #link: NodeLink;
  readonly #log: Logger;
  readonly #nodes = new Map<string, Map<string, Slot>>();
  readonly #byMsgId = new Map<string, { nodeId: string; uid: string; entry: Entry }>();
  readonly #stats: ReliableStats = { queued: 0, sent: 0, resent: 0, acked: 0, stale: 0, noted: 0, dropped: 0 };
  #stopped = false;

  constructor(o: ReliableQueueOptions) {
    this.#store = o.store;
    this.#link = o.link;
    this.#log = o.log;
    this.#o = {
      retryIntervalMs: o.retryIntervalMs ?? 5000,
      maxRetries: o.maxRetries ?? 4,
      requeueDelayMs: o.requeueDelayMs ?? 30_000,
      recordRetryMs: o.recordRetryMs ?? 1000,
    };
    setQueueDepthProvider(() => this.depth());
  }

  /** Messages waiting or in flight, all nodes together and on the busiest node (a scrape-time gauge). */
  depth(): { total: number; max: number } {
    let total = 0;
    let max = 0;
    for (const slots of this.#nodes.values()) {
      let n = 0;
      for (const s of slots.values()) n += (s.pending !== undefined ? 1 : 0) + (s.inflight !== undefined ? 1 : 0);
      total += n;
      max = Math.max(max, n);
    }
    return { total, max };
  }

  stats(): ReliableStats {
    return { ...this.#stats };
  }

  /**
   * Sends a downstream message (edge form), CloudHub's one way to a node when the queue exists: queued until acked
   * if it needs an ack, else written at once. Either way the queue notes what the edge now holds.
   */
  send(nodeId: string, msg: Message): void {
    if (this.#offer(nodeId, msg)) return;
    void this.#link.dispatch(nodeId, msg).then((written) => {
      if (written) this.#noteReply(nodeId, msg);
    });
  }

  /** Takes a message that needs an ack into its slot; false = not one of those (send it fire-and-forget). */
  #offer(nodeId: string, msg: Message): boolean {
    if (!needsAck(msg)) return false;
    const entry = toEntry(msg);
    if (entry === undefined) return false; // nothing to key it by: fire-and-forget
    if (entry.op !== 'delete' && entry.rv === '') {
      this.#stats.dropped++;
      this.#log.warn({ nodeId, resource: msg.route.resource }, 'reliable message without resourceVersion dropped');
      return true;
    }
    if (this.#stopped) return true;
    const slot = this.#slot(nodeId, entry.ref.uid);
    if (slot.deleted && entry.op === 'insert' && compareRv(entry.rv, slot.deletedRv) >= 0) slot.deleted = false;
    if (slot.deleted || !supersedes(entry, slot.pending) || !supersedes(entry, slot.inflight?.entry)) {
      this.#stats.stale++;
      return true;
    }
    slot.pending = entry;
    this.#stats.queued++;
    void this.#pump(nodeId, entry.ref.uid);
    return true;
  }

  onAck(nodeId: string, ack: Message): void {
    if (ack.route.operation !== 'response') return;
    const rec = this.#byMsgId.get(ack.header.parent_msg_id ?? '');
    if (rec === undefined || rec.nodeId !== nodeId) return; // an ack of a reply, or of a message given up on
    this.#byMsgId.delete(ack.header.parent_msg_id ?? '');
    this.#stats.acked++;
    const slot = this.#nodes.get(nodeId)?.get(rec.uid);
    if (slot === undefined) return;
    if (slot.inflight?.entry === rec.entry) {
      if (slot.inflight.sentAt !== undefined) cloudMetrics.ackLatency.observe(secondsSince(slot.inflight.sentAt));
      clearTimeout(slot.inflight.timer);
      slot.inflight = undefined;
    }
    const e = rec.entry;
    if (e.op === 'delete') {
      // An insert offered while the delete was out brings the object back once the delete is done.
      const back = slot.pending?.op === 'insert' ? slot.pending : undefined;
      slot.deleted = back === undefined;
      slot.deletedRv = e.rv;
      slot.acked = undefined;
      slot.pending = back;
      if (back !== undefined) void this.#pump(nodeId, rec.uid);
      this.#store.remove(nodeId, e.ref).catch((err: unknown) => this.#log.warn({ nodeId, uid: e.ref.uid, err }, 'removing ObjectSync failed'));
      return;
    }
    this.#acked(nodeId, slot, e);
    void this.#pump(nodeId, rec.uid);
  }

  /**
   * A reply was written to the node. One carrying a ConfigMap/Secret (a query reply) is stored by the edge like
   * a push: count it as acked, so later changes are compared against it and an older queued copy is not sent.
   */
  #noteReply(nodeId: string, msg: Message): void {
    if (msg.route.operation !== Operation.response || this.#stopped) return;
    const kind = (msg.content as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !STORED_REPLY_KINDS.has(kind)) return;
    const e = toEntry(msg);
    if (e === undefined || e.rv === '') return;
    const slot = this.#slot(nodeId, e.ref.uid);
    if (slot.deleted) return;
    if (this.#acked(nodeId, slot, e)) this.#stats.noted++;
  }

  /** Moves the slot's acked version forward to `e` and writes it to the ObjectSync; false if `e` is not newer. */
  #acked(nodeId: string, slot: Slot, e: Entry): boolean {
    if (slot.acked !== undefined && compareRv(e.rv, slot.acked.rv) <= 0) return false;
    const acked: Acked = { rv: e.rv, ...(e.fingerprint === undefined ? {} : { fingerprint: e.fingerprint }) };
    slot.acked = acked;
    this.#record(nodeId, slot, e, acked, this.#o.recordRetryMs);
    return true;
  }

  /**
   * Writes the ack to the ObjectSync, again (with backoff) while the API server cannot take it. A lost record is
   * not harmless: a restarted cloudcore pushes no ConfigMap/Secret of its first list and leaves what changed while
   * it was down to the synccontroller, which repairs only what has a record, so a node whose record was never
   * written would keep an old copy for good. A newer ack of the same slot supersedes a retry.
   */
  #record(nodeId: string, slot: Slot, e: Entry, acked: Acked, retryMs: number): void {
    this.#store.record(nodeId, e.ref, acked).catch((err: unknown) => {
      this.#log.warn({ nodeId, uid: e.ref.uid, rv: e.rv, err, retryInMs: retryMs }, 'recording ObjectSync failed');
      const t = setTimeout(() => {
        if (!this.#stopped && slot.acked === acked) this.#record(nodeId, slot, e, acked, Math.min(retryMs * 2, 30_000));
      }, retryMs);
      t.unref();
    });
  }

  onConnected(nodeId: string): void {
    for (const [uid, slot] of this.#nodes.get(nodeId) ?? []) {
      const inf = slot.inflight;
      if (inf !== undefined) {
        clearTimeout(inf.timer);
        inf.attempts = 0;
        this.#transmit(nodeId, uid, inf);
      } else if (slot.pending !== undefined) {
        void this.#pump(nodeId, uid);
      }
    }
  }

  /** In-flight messages go back to waiting; a message sent on a dead link is as good as lost. */
  onDisconnected(nodeId: string): void {
    for (const slot of this.#nodes.get(nodeId)?.values() ?? []) {
      const inf = slot.inflight;
      if (inf === undefined) continue;
      clearTimeout(inf.timer);
      this.#byMsgId.delete(inf.entry.msg.header.msg_id);
      slot.inflight = undefined;
      slot.pending ??= inf.entry;
    }
  }

  /** The node was deleted: drop its queue and what it acked (a re-joined node starts empty). */
  forgetNode(nodeId: string): void {
    const slots = this.#nodes.get(nodeId);
    if (slots === undefined) return;
    for (const s of slots.values()) this.#clearTimers(s);
    for (const [id, rec] of this.#byMsgId) if (rec.nodeId === nodeId) this.#byMsgId.delete(id);
    this.#nodes.delete(nodeId);
  }

  stop(): void {
    this.#stopped = true;
    for (const slots of this.#nodes.values()) for (const s of slots.values()) this.#clearTimers(s);
  }

  #clearTimers(s: Slot): void {
    clearTimeout(s.inflight?.timer);
    clearTimeout(s.requeueTimer);
    s.requeueTimer = undefined;
  }

  #slot(nodeId: string, uid: string): Slot {
    let slots = this.#nodes.get(nodeId);
    if (slots === undefined) {
      slots = new Map();
      this.#nodes.set(nodeId, slots);
    }
    let s = slots.get(uid);
    if (s === undefined) {
      s = {
        acked: undefined,
        loaded: false,
        loading: undefined,
        pending: undefined,
        inflight: undefined,
        deleted: false,
        deletedRv: '',
        requeueTimer: undefined,
      };
      slots.set(uid, s);
    }
    return s;
  }

  async #pump(nodeId: string, uid: string): Promise<void> {
    const slot = this.#nodes.get(nodeId)?.get(uid);
    if (this.#stopped || slot === undefined || slot.inflight !== undefined || slot.pending === undefined) return;
    if (!slot.loaded) {
      await this.#load(nodeId, slot, slot.pending.ref);
      return this.#pump(nodeId, uid);
    }
    if (!this.#link.isConnected(nodeId)) return; // sent by onConnected
    let e: Entry = slot.pending;
    slot.pending = undefined;
    if (e.op !== 'delete' && slot.acked !== undefined && (compareRv(e.rv, slot.acked.rv) <= 0 || sameForEdge(e, slot.acked))) {
      // Not newer, or newer only in what the edge is not sent (a pod's status; e.g. the re-list after a cloudcore
      // restart offers every pod again, most of them with a status reported since the last ack).
      this.#stats.stale++;
      return;
    }
    if (e.op === 'insert' && slot.acked !== undefined) {
      // The node has an older version already (e.g. a re-list after a cloudcore restart): it is an update.
      e = { ...e, op: 'update', msg: { ...e.msg, route: { ...e.msg.route, operation: 'update' } } };
    }
    const inf: Inflight = { entry: e, attempts: 0, timer: undefined };
    slot.inflight = inf;
    this.#transmit(nodeId, uid, inf);
  }

  async #load(nodeId: string, slot: Slot, ref: ObjectRef): Promise<void> {
    slot.loading ??= this.#store
      .acked(nodeId, ref)
      .then(
        (acked) => {
          if (acked !== undefined && (slot.acked === undefined || compareRv(acked.rv, slot.acked.rv) > 0)) slot.acked = acked;
        },
        (err: unknown) => this.#log.warn({ nodeId, uid: ref.uid, err }, 'reading ObjectSync failed; sending anyway'),
      )
      .finally(() => {
        slot.loaded = true;
        slot.loading = undefined;
      });
    await slot.loading;
  }

  #transmit(nodeId: string, uid: string, inf: Inflight): void {
    if (this.#stopped) return;
    inf.attempts++;
    if (inf.attempts === 1) this.#stats.sent++;
    else this.#stats.resent++;
    if (inf.attempts === 1) inf.sentAt = process.hrtime.bigint();
    else cloudMetrics.resends.inc();
    this.#byMsgId.set(inf.entry.msg.header.msg_id, { nodeId, uid, entry: inf.entry });
    void this.#link.dispatch(nodeId, inf.entry.msg);
    inf.timer = setTimeout(() => this.#onTimeout(nodeId, uid, inf), this.#o.retryIntervalMs);
    inf.timer.unref();
  }

  #onTimeout(nodeId: string, uid: string, inf: Inflight): void {
    const slot = this.#nodes.get(nodeId)?.get(uid);
    if (slot === undefined || slot.inflight !== inf || this.#stopped) return;
    const connected = this.#link.isConnected(nodeId);
    if (connected && inf.attempts <= this.#o.maxRetries) {
      this.#log.debug({ nodeId, uid, attempt: inf.attempts, resource: inf.entry.msg.route.resource }, 'no ack yet, resending');
      this.#transmit(nodeId, uid, inf);
      return;
    }
    this.#byMsgId.delete(inf.entry.msg.header.msg_id);
    slot.inflight = undefined;
    slot.pending ??= inf.entry;
    if (!connected) return; // onConnected sends it
    this.#log.warn({ nodeId, uid, attempts: inf.attempts, resource: inf.entry.msg.route.resource }, 'edge did not ack, back to the queue');
    clearTimeout(slot.requeueTimer);
    slot.requeueTimer = setTimeout(() => {
      slot.requeueTimer = undefined;
      void this.#pump(nodeId, uid);
    }, this.#o.requeueDelayMs);
    slot.requeueTimer.unref();
  }
}

/** Whether `e` should replace `other` (the one waiting or in flight). A delete beats everything but a delete. */
function supersedes(e: Entry, other: Entry | undefined): boolean {
  if (other === undefined) return true;
  if (other.op === 'delete') return e.op === 'insert' && compareRv(e.rv, other.rv) >= 0;
  if (e.op === 'delete') return true;
  return compareRv(e.rv, other.rv) > 0;
}

/** The edge's acked copy has the metadata and spec of `e` (only for kinds with a fingerprint: pods). */
function sameForEdge(e: Entry, acked: Acked): boolean {
  return e.fingerprint !== undefined && e.fingerprint === acked.fingerprint;
}

function toEntry(msg: Message): Entry | undefined {
  const c = msg.content as { apiVersion?: unknown; kind?: unknown; metadata?: Record<string, unknown> } | null;
  if (typeof c !== 'object' || c === null) return undefined;
  const md = c.metadata;
  const uid = md?.['uid'];
  if (typeof uid !== 'string' || uid === '' || uid.includes('.')) return undefined;
  const parts = (msg.route.resource ?? '').split('/');
  const ns = typeof md?.['namespace'] === 'string' ? md['namespace'] : '';
  const name = typeof md?.['name'] === 'string' ? md['name'] : parts.slice(2).join('/');
  const rv = msg.header.resourceversion ?? (typeof md?.['resourceVersion'] === 'string' ? md['resourceVersion'] : '');
  return {
    ref: {
      apiVersion: typeof c.apiVersion === 'string' ? c.apiVersion : 'v1',
      kind: typeof c.kind === 'string' ? c.kind : '',
      namespace: ns,
      name,
      uid,
    },
    op: msg.route.operation ?? '',
    rv,
    fingerprint: edgeFingerprint(c),
    msg,
  };
}
