import { randomUUID } from 'node:crypto';
import type { Bus } from '../../core/bus.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { contentAsObject, newErrorResponse, newResponse, Operation, parseResource, ResourceType, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { successObject } from './replies.ts';
import { MetaStore, resourceVersionOf } from './store.ts';

export type MetaManagerOptions = {
  enable?: boolean;
  /** `database.dataSource`, e.g. /var/lib/kubeedge/edgecore.db. */
  dataSource: string;
  /** Seconds to wait for the cloud's reply to a forwarded request (KubeEdge's `remoteQueryTimeout`, 60). */
  remoteQueryTimeout?: number;
};

export type MetaManagerStats = { stored: number; stale: number; rejected: number; forwarded: number };

/**
 * Replies to these queries are objects worth keeping for offline use (service-account tokens too, as KubeEdge
 * keeps them: a pod started while the cloud is away still gets the last token its account was given).
 */
const CACHED_QUERY_TYPES = new Set<string>([
  ResourceType.configmap,
  ResourceType.secret,
  ResourceType.node,
  ResourceType.lease,
  ResourceType.serviceAccountToken,
]);
/** Edged reads pods from the local store only: the cloud pushes them. */
const LOCAL_ONLY_QUERY_TYPES = new Set<string>([ResourceType.pod, ResourceType.podList]);
/** KubeEdge 1.15 acks the cloud's replies to these operations (not patch/delete). */
const ACKED_REPLY_OPS = new Set<string>([Operation.query, Operation.insert, Operation.update]);
/** Objects of DeviceController that go to DeviceTwin rather than edged. */
const DEVICE_TYPES = new Set<string>([ResourceType.device, ResourceType.deviceModel]);
const CLOUD_WRITE_OPS = new Set<string>([Operation.insert, Operation.update, Operation.delete]);
/** Services and their endpoints go to EdgeMesh (when it runs), not edged. */
const MESH_TYPES = new Set<string>([ResourceType.service, ResourceType.endpoints, ResourceType.endpointSlice]);

/**
 * MetaManager: persists what the cloud pushes before anyone acts on it, and proxies edged's requests to the
 * cloud (or answers them from the store while the cloud is away).
 */
export class MetaManager implements Module {
  readonly name = EdgeModules.metaManager;
  readonly group = EdgeGroups.meta;
  readonly enabled: boolean;
  readonly #opts: MetaManagerOptions;
  readonly #timeoutMs: number;
  #store: MetaStore | undefined;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #connected = false;
  readonly #stats: MetaManagerStats = { stored: 0, stale: 0, rejected: 0, forwarded: 0 };

  constructor(opts: MetaManagerOptions) {
    this.#opts = opts;
    this.enabled = opts.enable ?? true;
    this.#timeoutMs = (opts.remoteQueryTimeout ?? 60) * 1000;
  }

  /** The open store (for the daemon's other parts and for tests). */
  get store(): MetaStore {
    if (this.#store === undefined) throw new Error('metamanager not started');
    return this.#store;
  }

  get cloudConnected(): boolean {
    return this.#connected;
  }

  get stats(): Readonly<MetaManagerStats> {
    return { ...this.#stats };
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#store = new MetaStore(this.#opts.dataSource);
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    ctx.bus.register(this.name, this.group, (m) => this.#dispatch(m));
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#store?.close();
    this.#store = undefined;
  }

  #dispatch(m: Message): void {
    const r = m.route;
    if (r.operation === Operation.connect && r.resource === 'node/connection') {
      this.#connected = m.content === 'cloud_connected';
      this.#log?.info({ connected: this.#connected }, 'cloud link state');
      return;
    }
    if (r.group === EdgeGroups.meta) {
      this.#handleLocal(m).catch((err: unknown) => {
        this.#log?.error({ err, resource: r.resource }, 'edged request failed');
      });
      return;
    }
    if (m.header.parent_msg_id === undefined && CLOUD_WRITE_OPS.has(r.operation ?? '')) {
      this.#handleCloud(m);
      return;
    }
    // A late reply to a request we stopped waiting for, or something nobody here handles.
    this.#log?.debug({ op: r.operation, resource: r.resource, source: r.source }, 'message ignored');
  }

  /** Cloud insert/update/delete: persist, then hand to edged, then ack, in that order. */
  #handleCloud(m: Message): void {
    const bus = this.#bus;
    const store = this.#store;
    if (bus === undefined || store === undefined) return;
    const resource = m.route.resource ?? '';
    const { type, name } = parseResource(resource);
    const op = m.route.operation;
    const content = contentAsObject(m);
    if (type === '' || name === '' || (op !== Operation.delete && (typeof content !== 'object' || content === null))) {
      this.#stats.rejected++;
      this.#log?.warn({ op, resource, source: m.route.source }, 'cloud message rejected: bad resource or content');
      return;
    }
    const rv = m.header.resourceversion ?? resourceVersionOf(content);
    let result: string;
    try {
      result = op === Operation.delete ? store.delete(resource, rv) : store.put(resource, type, content, rv);
    } catch (err) {
      // No ack: the cloud re-sends what the edge did not acknowledge.
      this.#log?.error({ err, resource }, 'cannot persist cloud message; not acknowledged');
      return;
    }
    if (result === 'stale') {
      this.#stats.stale++;
      this.#log?.info({ op, resource, rv }, 'older resourceVersion than stored; acked, not applied');
    } else {
      this.#stats.stored++;
      if (DEVICE_TYPES.has(type)) {
        // KubeEdge's metamanager hands DeviceController's objects to the twin, re-routed as from `meta`
        bus.send(EdgeModules.deviceTwin, {
          header: { ...m.header },
          route: { ...m.route, source: EdgeGroups.meta, group: EdgeGroups.twin },
          content: m.content,
        });
      } else if (MESH_TYPES.has(type)) {
        // Stored (and acked) even with EdgeMesh off: turned on later, it finds them in the store.
        if (bus.has(EdgeModules.edgeMesh)) bus.send(EdgeModules.edgeMesh, m);
      } else bus.send(EdgeModules.edged, m);
    }
    bus.send(EdgeModules.edgeHub, newResponse(m, 'OK', ackRoute(m)));
  }

  async #handleLocal(m: Message): Promise<void> {
    const bus = this.#bus;
    if (bus === undefined) return;
    const op = m.route.operation ?? '';
    const { type, name } = parseResource(m.route.resource ?? '');
    // EdgeMesh learns this node's pod addresses from edged's reports, online or not (a pod restarted offline).
    const podReport = (op === Operation.patch && type === ResourceType.podPatch) || (op === Operation.delete && type === ResourceType.pod);
    if (podReport && m.route.source === EdgeModules.edged && bus.has(EdgeModules.edgeMesh)) bus.send(EdgeModules.edgeMesh, m);
    if (op === Operation.query && (LOCAL_ONLY_QUERY_TYPES.has(type) || name === '')) {
      bus.respond(this.#answerFromStore(m));
      return;
    }
    if (!this.#connected || !bus.has(EdgeModules.edgeHub)) {
      bus.respond(op === Operation.query ? this.#answerFromStore(m) : notConnected(m));
      return;
    }
    const copy: Message = { header: { ...m.header, msg_id: randomUUID() }, route: { ...m.route }, content: m.content };
    const waiting = bus.awaitResponse(copy.header.msg_id, this.#timeoutMs);
    bus.send(EdgeModules.edgeHub, copy);
    this.#stats.forwarded++;
    let reply: Message;
    try {
      reply = await waiting;
    } catch (err) {
      this.#log?.warn({ op, resource: m.route.resource, err }, 'no reply from the cloud');
      bus.respond(op === Operation.query ? this.#answerFromStore(m) : newErrorResponse(m, describeError(err), EdgeModules.metaManager));
      return;
    }
    if (reply.route.operation === Operation.error) {
      // EdgeHub's own refusal (link went down meanwhile): same as offline.
      bus.respond(op === Operation.query ? this.#answerFromStore(m) : newErrorResponse(m, String(reply.content), EdgeModules.metaManager));
      return;
    }
    if (ACKED_REPLY_OPS.has(op)) bus.send(EdgeModules.edgeHub, newResponse(reply, 'OK', ackRoute(reply)));
    if (op === Operation.query && CACHED_QUERY_TYPES.has(type)) this.#cache(m, reply);
    if (op === Operation.patch && type === ResourceType.podPatch) this.#keepPodStatus(m, reply);
    const rv = reply.header.resourceversion;
    bus.respond(
      newResponse(m, reply.content, {
        source: reply.route.source ?? '',
        group: reply.route.group ?? '',
        ...(rv !== undefined ? { resourceVersion: rv } : {}),
      }),
    );
  }

  #cache(req: Message, reply: Message): void {
    const obj = successObject(contentAsObject(reply));
    if (obj === null) return;
    const resource = req.route.resource ?? '';
    try {
      this.#store?.put(resource, parseResource(resource).type, obj, reply.header.resourceversion ?? resourceVersionOf(obj));
    } catch (err) {
      this.#log?.warn({ err, resource }, 'cannot cache query reply');
    }
  }

  /**
   * The cloud echoes no status-only change back to the edge (as in KubeEdge), so the stored pod would keep the
   * status it had when it arrived. KubeEdge keeps the cloud's answer to a status patch for that reason: the status
   * the cloud accepted goes into the stored pod, and edged restarted offline resumes from it (start time, restart
   * counts) instead of from the status at insert. The stored resourceVersion stays, so any cloud update still applies.
   */
  #keepPodStatus(req: Message, reply: Message): void {
    const store = this.#store;
    const patched = successObject(contentAsObject(reply));
    if (store === undefined || patched === null || typeof patched['status'] !== 'object') return;
    const { namespace, name } = parseResource(req.route.resource ?? '');
    const key = `${namespace}/${ResourceType.pod}/${name}`;
    const rec = store.get(key);
    const stored = rec === undefined ? undefined : parseStored(rec.value);
    if (rec === undefined || typeof stored !== 'object' || stored === null) return;
    const uid = (o: Record<string, unknown>) => (o['metadata'] as { uid?: unknown } | undefined)?.uid;
    if (uid(patched) !== uid(stored as Record<string, unknown>)) return;
    try {
      store.put(key, ResourceType.pod, { ...stored, status: patched['status'] }, rec.resourceVersion);
    } catch (err) {
      this.#log?.warn({ err, resource: key }, 'cannot keep the pod status the cloud accepted');
    }
  }

  /** Offline/local answer: the object for `<ns>/<type>/<name>`, the list for `<ns>/<type>` ('' ns = all). */
  #answerFromStore(m: Message): Message {
    const store = this.#store;
    const resource = m.route.resource ?? '';
    const { namespace, type, name } = parseResource(resource);
    const local = { source: EdgeModules.metaManager, group: EdgeGroups.meta };
    if (store === undefined) return newErrorResponse(m, 'metamanager stopped', EdgeModules.metaManager);
    if (name === '') {
      const items = store
        .listByType(type)
        .filter((r) => namespace === '' || r.key.startsWith(`${namespace}/`))
        .map((r) => parseStored(r.value));
      return newResponse(m, items, local);
    }
    const rec = store.get(resource);
    if (rec === undefined) return newErrorResponse(m, `${resource} not found in the local store`, EdgeModules.metaManager);
    return newResponse(m, parseStored(rec.value), {
      ...local,
      ...(rec.resourceVersion !== '' ? { resourceVersion: rec.resourceVersion } : {}),
    });
  }
}

/** KubeEdge's edge ack copies the route of the message it acks. */
function ackRoute(m: Message): { source: string; group: string } {
  return { source: m.route.source ?? '', group: m.route.group ?? '' };
}

function notConnected(m: Message): Message {
  return newErrorResponse(m, 'cloud not connected', EdgeModules.metaManager);
}

/** Values are JSON we wrote ourselves; a foreign row that is not JSON is passed on as text. */
function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
