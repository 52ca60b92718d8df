import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import type { KubeObject } from '../../kube/rest.ts';
import type { ObjectSyncRecord } from '../cloudhub/reliable/objectsync.ts';
import { compareRv } from '../cloudhub/reliable/rv.ts';
import { nodeNameOf, type LiveObjects } from '../common/informers/informers.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { edgeFingerprint } from '../common/pod-changes.ts';
import { podReferences, type PodRefs } from '../common/pod-refs.ts';
import { objectMessage, TYPE_OF_KIND } from '../edgecontroller/downstream/messages.ts';

/** The ObjectSync operations the synccontroller needs. */
export type SyncRecords = {
  list(): Promise<ObjectSyncRecord[]>;
  remove(nodeId: string, ref: { namespace: string; uid: string }): Promise<void>;
};

export type SyncControllerOptions = {
  records: SyncRecords;
  /** The shared informers' caches (read only; started here too if nothing else started them). */
  live: LiveObjects & { start(): void; stop(): void };
  /** Period of the full pass (KubeEdge: 5 s). */
  periodMs?: number;
};

export type SyncPassResult = {
  updates: number;
  deletes: number;
  inserts: number;
  collected: number;
  /** Pods whose live resourceVersion is newer than the acked one but whose metadata and spec are not (status only). */
  unchanged: number;
  /** ConfigMaps/Secrets a pod on a node uses, sent to that node because it has no record of them (see the pass). */
  refsWithoutRecord: number;
};

/** A pod's references, read once per pod object (the informer replaces the object when the pod changes). */
const refsCache = new WeakMap<KubeObject, PodRefs>();
function refsOf(pod: KubeObject): PodRefs {
  let r = refsCache.get(pod);
  if (r === undefined) {
    r = podReferences(pod);
    refsCache.set(pod, r);
  }
  return r;
}

/**
 * SyncController (`synccontroller`): repairs what the edge holds from the ObjectSync records. For each record
 * it compares the acked resourceVersion with the live object: newer → `update` with the current object (for a
 * pod, only if its metadata or spec differ from the acked ones: see the pass); gone
 * or replaced (other UID) → `delete`. Pods bound to a node with no record at all (created while cloudcore was
 * down) → `insert`; ConfigMaps and Secrets such a pod uses that have no record for its node (the record was lost
 * to a kill) → sent as they are. Records of nodes that are no longer edge nodes are deleted. Runs at start, on every edge
 * (re)connect (the `connected` event edgecontroller forwards) and periodically. Messages go through CloudHub's
 * reliable queue, which drops what is already queued, in flight or acked, so overlapping passes are harmless.
 */
export class SyncController implements Module {
  readonly name = CloudModules.syncController;
  readonly group = CloudGroups.syncController;
  readonly enabled = true;
  readonly #o: SyncControllerOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SyncPassResult> | undefined;
  #again: Set<string> | 'all' | undefined;
  #stopped = false;

  constructor(o: SyncControllerOptions) {
    this.#o = o;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    this.#o.live.start();
    void this.#o.live.ready().then(
      () => {
        if (this.#stopped) return;
        this.#kick('all');
        this.#timer = setInterval(() => this.#kick('all'), this.#o.periodMs ?? 5000);
        this.#timer.unref();
      },
      () => {},
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#bus?.unregister(this.name);
    await this.#running?.catch(() => undefined);
    this.#o.live.stop();
  }

  /** One pass, for some nodes or all; a pass in progress finishes first. */
  async sync(nodes?: string | ReadonlySet<string>): Promise<SyncPassResult> {
    await this.#o.live.ready();
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    const p = this.#pass(typeof nodes === 'string' ? new Set([nodes]) : nodes);
    this.#running = p;
    try {
      return await p;
    } finally {
      if (this.#running === p) this.#running = undefined;
    }
  }

  #onMessage(msg: Message): void {
    // `connected` events forwarded by edgecontroller: `node/<id>`.
    if (msg.route.operation !== 'connected') return;
    const node = (msg.route.resource ?? '').split('/')[1];
    if (node !== undefined && node !== '') this.#kick(node);
  }

  #kick(node: string): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      // Coalesce: one more pass after the current one covers every request made meanwhile.
      if (node === 'all' || this.#again === 'all') this.#again = 'all';
      else {
        const set = this.#again ?? new Set<string>();
        set.add(node);
        this.#again = set;
      }
      return;
    }
    this.#run(node === 'all' ? undefined : new Set([node]));
  }

  /**
   * Runs a pass, then one more for everything asked for meanwhile: a storm of reconnects costs one list of the
   * ObjectSyncs per pass, not one per node.
   */
  #run(nodes: ReadonlySet<string> | undefined): void {
    void this.sync(nodes)
      .catch((err: unknown) => this.#log?.warn({ err }, 'sync pass failed'))
      .then(() => {
        const again = this.#again;
        this.#again = undefined;
        if (this.#stopped || again === undefined) return;
        this.#run(again === 'all' ? undefined : again);
      });
  }

  async #pass(only: ReadonlySet<string> | undefined): Promise<SyncPassResult> {
    const live = this.#o.live;
    const result: SyncPassResult = { updates: 0, deletes: 0, inserts: 0, collected: 0, unchanged: 0, refsWithoutRecord: 0 };
    const records = (await this.#o.records.list()).filter((r) => only === undefined || only.has(r.nodeName));
    const tracked = new Set<string>();
    for (const r of records) {
      tracked.add(`${r.nodeName}/${r.uid}`);
      if (!live.isEdgeNode(r.nodeName)) {
        await this.#o.records.remove(r.nodeName, r).catch(() => undefined);
        result.collected++;
        continue;
      }
      const type = TYPE_OF_KIND[r.kind];
      if (type === undefined) continue; // not ours (e.g. devices): left to its controller
      if (!live.knows(r.kind)) continue; // not listed (yet): absent would not mean deleted
      const obj = live.get(r.kind, r.namespace, r.name);
      if (obj === undefined || obj.metadata?.uid !== r.uid) {
        this.#send(objectMessage(r.nodeName, 'delete', type, minimalObject(r)));
        result.deletes++;
      } else if (compareRv(obj.metadata?.resourceVersion, r.ackedRv) > 0) {
        // A pod's resourceVersion also moves with every status report, which the edge is not sent (it reported
        // it). The ObjectSync keeps the fingerprint of the acked pod's metadata and spec: equal means the edge's
        // copy is current in everything it acts on, so nothing is sent (and the acked RV stays behind; this
        // check runs again each pass, a hash of one pod). Without a fingerprint (ConfigMaps, Secrets, records a
        // KubeEdge cloudcore wrote) the resourceVersion alone decides, as in KubeEdge.
        const f = r.ackedFingerprint;
        if (f !== undefined && edgeFingerprint(obj) === f) {
          result.unchanged++;
        } else {
          this.#send(objectMessage(r.nodeName, 'update', type, obj));
          result.updates++;
        }
      }
    }
    // One walk over the pod cache for a full pass (not one per node: this runs every 5 s over every pod).
    const pods = only === undefined ? live.podsOnEdge() : [...only].flatMap((n) => live.podsOn(n));
    for (const pod of pods) {
      const node = nodeNameOf(pod);
      const uid = pod.metadata?.uid ?? '';
      if (uid === '') continue;
      if (!tracked.has(`${node}/${uid}`)) {
        this.#send(objectMessage(node, 'insert', 'pod', pod));
        result.inserts++;
      }
      this.#referencedWithoutRecord(pod, node, tracked, result);
    }
    if (result.updates + result.deletes + result.inserts + result.collected + result.refsWithoutRecord > 0) {
      this.#log?.info({ nodes: only === undefined ? 'all' : only.size, ...result }, 'synccontroller pass');
    }
    return result;
  }

  /**
   * The ConfigMaps and Secrets a pod on the node uses that have no ObjectSync for that node: sent as they are now.
   * A record can be lost (cloudcore killed between the edge's ack and the record's write, or while the API server
   * was down and the write was being retried); a restarted cloudcore pushes nothing of its first list, so without
   * this a change made while it was down never reached that node, and every pass above skipped it for want of a
   * record. KubeEdge's edge stores a pushed ConfigMap/Secret like a queried one; once acked, the record exists
   * and the pass is back to comparing resourceVersions. Each pair is sent once per pass (`tracked` grows).
   */
  #referencedWithoutRecord(pod: KubeObject, node: string, tracked: Set<string>, result: SyncPassResult): void {
    const live = this.#o.live;
    const ns = pod.metadata?.namespace ?? '';
    const refs = refsOf(pod);
    for (const [kind, names] of [
      ['ConfigMap', refs.configmaps],
      ['Secret', refs.secrets],
    ] as const) {
      if (names.length === 0 || !live.knows(kind)) continue;
      for (const name of names) {
        const obj = live.get(kind, ns, name);
        const uid = obj?.metadata?.uid ?? '';
        if (obj === undefined || uid === '' || tracked.has(`${node}/${uid}`)) continue;
        tracked.add(`${node}/${uid}`);
        // KubeEdge's ops for a first push: a ConfigMap is inserted, a Secret updated.
        this.#send(objectMessage(node, kind === 'ConfigMap' ? 'insert' : 'update', TYPE_OF_KIND[kind] ?? '', obj));
        result.refsWithoutRecord++;
      }
    }
  }

  #send(msg: Message): void {
    this.#bus?.send(CloudModules.cloudHub, msg);
  }
}

/** What is left of an object that is gone: enough metadata for the edge to find and drop its copy. */
function minimalObject(r: ObjectSyncRecord): KubeObject {
  return {
    kind: r.kind,
    apiVersion: r.apiVersion === '' ? 'v1' : r.apiVersion,
    metadata: { name: r.name, uid: r.uid, resourceVersion: r.ackedRv, ...(r.namespace === '' ? {} : { namespace: r.namespace }) },
  };
}
