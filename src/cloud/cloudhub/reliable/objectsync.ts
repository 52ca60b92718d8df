import { isAlreadyExists, isNotFound, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import { compareRv } from './rv.ts';

export const RELIABLESYNCS_GROUP = 'reliablesyncs.kubeedge.io';
export const RELIABLESYNCS_VERSION = 'v1alpha1';
const API = `/apis/${RELIABLESYNCS_GROUP}/${RELIABLESYNCS_VERSION}`;
/**
 * Our addition to KubeEdge's ObjectSync (an annotation, so a KubeEdge cloudcore reading the same objects is not
 * disturbed): the {@link edgeFingerprint} of the acked object. A pod's resourceVersion moves with every status
 * report, which the edge is not sent; this says whether the edge's copy is still current anyway.
 */
export const ACKED_FINGERPRINT_ANNOTATION = 'reliablesyncs.kubeedge-ts.io/acked-fingerprint';

/** Which object an ObjectSync tracks; namespace '' = a cluster-scoped object (ClusterObjectSync). */
export type ObjectRef = { apiVersion: string; kind: string; namespace: string; name: string; uid: string };

/** What a node acked of an object: its resourceVersion and, for pods, the fingerprint of what the edge acts on. */
export type Acked = { rv: string; fingerprint?: string };

/** One ObjectSync/ClusterObjectSync, decoded: the node, the object and what the node acked. */
export type ObjectSyncRecord = ObjectRef & { nodeName: string; syncName: string; ackedRv: string; ackedFingerprint?: string };

/** KubeEdge's name: `<node>.<objectUID>`. UIDs contain no dots, so the node is everything before the last one. */
export function objectSyncName(nodeName: string, uid: string): string {
  return `${nodeName}.${uid}`;
}

export function splitObjectSyncName(name: string): { nodeName: string; uid: string } | undefined {
  const i = name.lastIndexOf('.');
  if (i <= 0 || i === name.length - 1) return undefined;
  return { nodeName: name.slice(0, i), uid: name.slice(i + 1) };
}

const enc = encodeURIComponent;
function collection(namespace: string): string {
  return namespace === '' ? `${API}/clusterobjectsyncs` : `${API}/namespaces/${enc(namespace)}/objectsyncs`;
}
function itemPath(namespace: string, name: string): string {
  return `${collection(namespace)}/${enc(name)}`;
}

type SyncObject = KubeObject & {
  spec?: { objectAPIVersion?: string; objectKind?: string; objectName?: string };
  status?: { objectResourceVersion?: string };
};

function decode(o: SyncObject): ObjectSyncRecord | undefined {
  const syncName = o.metadata?.name ?? '';
  const parts = splitObjectSyncName(syncName);
  if (parts === undefined) return undefined;
  return {
    syncName,
    nodeName: parts.nodeName,
    uid: parts.uid,
    namespace: o.metadata?.namespace ?? '',
    apiVersion: o.spec?.objectAPIVersion ?? '',
    kind: o.spec?.objectKind ?? '',
    name: o.spec?.objectName ?? '',
    ackedRv: o.status?.objectResourceVersion ?? '0',
    ...fingerprintOf(o),
  };
}

function fingerprintOf(o: SyncObject): { ackedFingerprint?: string } {
  const annotations = o.metadata?.['annotations'] as Record<string, unknown> | undefined;
  const f = annotations?.[ACKED_FINGERPRINT_ANNOTATION];
  return typeof f === 'string' && f !== '' ? { ackedFingerprint: f } : {};
}

/** ObjectSync writes (create, patch, delete) in flight at once, whatever the number of acks waiting. */
export const OBJECT_SYNC_WRITES_IN_FLIGHT = 8;

/** Runs at most `limit` tasks at a time, the rest in arrival order. */
class Lane {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

/** A watch-fed cache of one ObjectSync collection (a shared informer): `listed` once its first list is in. */
export type ObjectSyncCache = { readonly listed: boolean; get(namespace: string, name: string): KubeObject | undefined; list(): KubeObject[] };

/** The informer specs of both collections, for {@link ObjectSyncStore}'s caches. */
export const OBJECT_SYNC_INFORMERS = {
  namespaced: { path: `${API}/objectsyncs`, kind: 'ObjectSync', apiVersion: `${RELIABLESYNCS_GROUP}/${RELIABLESYNCS_VERSION}` },
  cluster: { path: `${API}/clusterobjectsyncs`, kind: 'ClusterObjectSync', apiVersion: `${RELIABLESYNCS_GROUP}/${RELIABLESYNCS_VERSION}` },
} as const;

/**
 * ObjectSync objects in the API server (`reliablesyncs.kubeedge.io/v1alpha1`). Writes for one object are
 * serialised, and the recorded resourceVersion only ever moves forward, so late acks cannot roll it back.
 *
 * With `caches` (watch-fed), reads come from memory once they are listed: the reliable queue looks up every new
 * (node, object) before its first send, each ack is recorded, and the synccontroller reads every record on each
 * pass (every 5 s and after edge reconnects). Without them each of those was an API call: with 1,000 pods a
 * reconnect storm spent most of cloudcore's time listing and parsing ObjectSyncs. A cache that lags behind our
 * own write is harmless: a missing record is created (AlreadyExists: read it), a record gone is created again.
 */
export class ObjectSyncStore {
  readonly #kube: KubeRest;
  readonly #caches: { namespaced: ObjectSyncCache; cluster: ObjectSyncCache } | undefined;
  readonly #chains = new Map<string, Promise<unknown>>();
  /**
   * ObjectSync writes are bookkeeping: a burst of acks (1,000 pods fanned out) queued 2,000 of them in the API
   * client's connection pool ahead of the edges' own requests (their pod status), which then waited ~0.5 s for a
   * connection although the API server answered each in under 2 ms. A few at a time keeps the pool free for them.
   */
  readonly #lane = new Lane(OBJECT_SYNC_WRITES_IN_FLIGHT);

  constructor(kube: KubeRest, caches?: { namespaced: ObjectSyncCache; cluster: ObjectSyncCache }) {
    this.#kube = kube;
    this.#caches = caches;
  }

  /** The listed cache for this namespace's kind ('' = cluster-scoped), or undefined (ask the API server). */
  #cache(namespace: string): ObjectSyncCache | undefined {
    const c = namespace === '' ? this.#caches?.cluster : this.#caches?.namespaced;
    return c?.listed === true ? c : undefined;
  }

  /** What the node acked, or undefined when there is no ObjectSync for (node, object). */
  async acked(nodeName: string, ref: Pick<ObjectRef, 'namespace' | 'uid'>): Promise<Acked | undefined> {
    const cache = this.#cache(ref.namespace);
    if (cache !== undefined) {
      const o = cache.get(ref.namespace, objectSyncName(nodeName, ref.uid)) as SyncObject | undefined;
      if (o === undefined) return undefined;
      const f = fingerprintOf(o).ackedFingerprint;
      return { rv: o.status?.objectResourceVersion ?? '0', ...(f === undefined ? {} : { fingerprint: f }) };
    }
    try {
      const o = await this.#kube.get<SyncObject>(itemPath(ref.namespace, objectSyncName(nodeName, ref.uid)));
      const f = fingerprintOf(o).ackedFingerprint;
      return { rv: o.status?.objectResourceVersion ?? '0', ...(f === undefined ? {} : { fingerprint: f }) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Records that `nodeName` acked `ref` at `acked.rv`, creating the ObjectSync the first time. */
  record(nodeName: string, ref: ObjectRef, acked: Acked): Promise<void> {
    return this.#serial(ref.namespace, objectSyncName(nodeName, ref.uid), () => this.#record(nodeName, ref, acked));
  }

  /** Forgets (node, object): after a delete was acked, or when the node is gone. Absent is fine. */
  remove(nodeName: string, ref: Pick<ObjectRef, 'namespace' | 'uid'>): Promise<void> {
    const name = objectSyncName(nodeName, ref.uid);
    return this.#serial(ref.namespace, name, async () => {
      try {
        await this.#kube.delete(itemPath(ref.namespace, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }

  /** Every ObjectSync and ClusterObjectSync (all namespaces). */
  async list(): Promise<ObjectSyncRecord[]> {
    const nsCache = this.#cache('x');
    const clusterCache = this.#cache('');
    if (nsCache !== undefined && clusterCache !== undefined) {
      const out: ObjectSyncRecord[] = [];
      for (const o of [...nsCache.list(), ...clusterCache.list()]) {
        const r = decode(o as SyncObject);
        if (r !== undefined) out.push(r);
      }
      return out;
    }
    const [ns, cluster] = await Promise.all([
      this.#kube.get<{ items?: SyncObject[] }>(`${API}/objectsyncs`),
      this.#kube.get<{ items?: SyncObject[] }>(`${API}/clusterobjectsyncs`),
    ]);
    const out: ObjectSyncRecord[] = [];
    for (const o of [...(ns.items ?? []), ...(cluster.items ?? [])]) {
      const r = decode(o);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  async #record(nodeName: string, ref: ObjectRef, acked: Acked, retried = false, gone = false): Promise<void> {
    const { rv, fingerprint } = acked;
    const name = objectSyncName(nodeName, ref.uid);
    const path = itemPath(ref.namespace, name);
    const cache = this.#cache(ref.namespace);
    let current: SyncObject | undefined;
    if (cache !== undefined) current = gone ? undefined : (cache.get(ref.namespace, name) as SyncObject | undefined);
    else {
      try {
        current = await this.#kube.get<SyncObject>(path);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (current === undefined) {
      const kind = ref.namespace === '' ? 'ClusterObjectSync' : 'ObjectSync';
      const body: SyncObject = {
        apiVersion: `${RELIABLESYNCS_GROUP}/${RELIABLESYNCS_VERSION}`,
        kind,
        metadata: {
          name,
          ...(ref.namespace === '' ? {} : { namespace: ref.namespace }),
          ...(fingerprint === undefined ? {} : { annotations: { [ACKED_FINGERPRINT_ANNOTATION]: fingerprint } }),
        },
        spec: { objectAPIVersion: ref.apiVersion, objectKind: ref.kind, objectName: ref.name },
        status: { objectResourceVersion: rv },
      };
      try {
        current = await this.#kube.create<SyncObject>(collection(ref.namespace), body);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        current = await this.#kube.get<SyncObject>(path);
      }
    }
    // A server with a status subresource drops status on create; and never move the recorded RV backwards.
    const have = current.status?.objectResourceVersion;
    if (have === rv || compareRv(have, rv) > 0) return;
    // Two writes (a status subresource takes only status). The fingerprint first: a crash between them leaves
    // the old RV with the new fingerprint, which still matches the live object, so nothing is resent for it.
    const f = fingerprintOf(current).ackedFingerprint;
    try {
      if (fingerprint !== f) {
        await this.#kube.patch(path, { metadata: { annotations: { [ACKED_FINGERPRINT_ANNOTATION]: fingerprint ?? null } } }, 'merge');
      }
      await this.#kube.patch(`${path}/status`, { status: { objectResourceVersion: rv } }, 'merge');
    } catch (err) {
      // The cached record was deleted meanwhile (the synccontroller collected it, or someone else did): write it anew.
      if (cache === undefined || !isNotFound(err) || retried) throw err;
      await this.#record(nodeName, ref, acked, true, true);
    }
  }

  #serial<T>(namespace: string, name: string, fn: () => Promise<T>): Promise<T> {
    const key = `${namespace}/${name}`;
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const limited = () => this.#lane.run(fn);
    const next = prev.then(limited, limited);
    const settled = next.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return next;
  }
}
