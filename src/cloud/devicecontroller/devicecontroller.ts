import type { Bus } from '../../core/bus.ts';
import { MalformedMessageError } from '../../core/errors.ts';
import { logger, type Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import type { KubeObject, KubeRest } from '../../kube/rest.ts';
import type { CloudInformers } from '../common/informers/informers.ts';
import type { Informer, InformerEventType } from '../common/informers/informer.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { StatusWriter, type StatusWriterStats } from './status-writer.ts';
import type { StatusChange } from './status.ts';
import { DEVICES_API_VERSION, membershipDetailMessage, membershipUpdateMessage, objectMessage, parseUpstream, twinAckMessage, type Upstream } from './wire.ts';

/** A node's acked copy of an object, as CloudHub's reliable queue records it (an ObjectSync). */
export type AckedRecord = { nodeName: string; namespace: string; kind: string; apiVersion: string; name: string; uid: string; ackedRv: string };

export type DeviceControllerOptions = {
  enabled: boolean;
  kube: KubeRest;
  /** The ObjectSync records: at start, devices an edge still holds but that are gone or moved get deleted there. */
  records?: { list(): Promise<AckedRecord[]> };
  /** cloudcore's shared informers (the Device and DeviceModel ones are asked for by this module). */
  informers: CloudInformers;
  log?: Logger;
  /** At most one status write per device per this many ms (default 1000). */
  statusUpdateIntervalMs?: number;
  /** A last-online time that alone moved is written at most this often per device (default 60 s). */
  lastOnlineIntervalMs?: number;
  /** KubeEdge's `buffer.updateDeviceStatus`: devices with an unwritten status at most (default 1024). */
  updateDeviceStatusBuffer?: number;
  /** KubeEdge's `load.updateDeviceStatusWorkers`: status writes in flight at most (default 1). */
  updateDeviceStatusWorkers?: number;
};

export type DeviceControllerStats = StatusWriterStats & {
  /** Upstream messages without KubeEdge's shape, or about a device this node does not have. */
  rejected: number;
  detailAnswered: number;
};

/**
 * KubeEdge's DeviceController (`devicecontroller`): Devices with `spec.nodeName` reach their node as KubeEdge
 * v1.15 sends them (membership to DeviceTwin; the Device and its DeviceModel objects as resources, acked and
 * resent by CloudHub's reliable queue like pods), and what the edge reports lands in the Device's status.
 */
export class DeviceController implements Module {
  readonly name = CloudModules.deviceController;
  readonly group = CloudGroups.deviceController;
  readonly enabled: boolean;
  readonly #o: DeviceControllerOptions;
  readonly #log: Logger;
  readonly #writer: StatusWriter;
  readonly #devices: Informer;
  readonly #models: Informer;
  /** Device events that came before the models were listed (a device is sent with its model). */
  #early: Array<[InformerEventType, KubeObject, KubeObject | undefined]> | undefined = [];
  /** node -> device name (as the edge names it) -> `namespace/name`, for the edges' reports. */
  readonly #byNode = new Map<string, Map<string, string>>();
  #bus: Bus | undefined;
  #started = false;
  #listed = false;
  /** Resolves once devices and models are listed and the devices indexed. */
  readonly #ready: Promise<void>;
  #rejected = 0;
  #detailAnswered = 0;

  /** Adds its informer handlers at once, so they see the first list. */
  constructor(o: DeviceControllerOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#log = o.log ?? logger(CloudModules.deviceController);
    this.#models = o.informers.informer({ path: `/apis/${DEVICES_API_VERSION}/devicemodels`, kind: 'DeviceModel', apiVersion: DEVICES_API_VERSION });
    this.#devices = o.informers.informer({ path: `/apis/${DEVICES_API_VERSION}/devices`, kind: 'Device', apiVersion: DEVICES_API_VERSION });
    const path = (ns: string, name: string) => `/apis/${DEVICES_API_VERSION}/namespaces/${encodeURIComponent(ns)}/devices/${encodeURIComponent(name)}`;
    this.#writer = new StatusWriter({
      // v1beta1 Device has no status subresource (as in KubeEdge v1.15): the object itself is patched.
      patch: (ns, name, body) => o.kube.patch(path(ns, name), body, 'merge'),
      current: (ns, name) => this.#devices.get(ns, name),
      ack: (acks) => {
        for (const a of acks) this.#send(twinAckMessage(a.nodeId, a.msgId));
      },
      log: this.#log,
      intervalMs: o.statusUpdateIntervalMs ?? 1000,
      lazyIntervalMs: o.lastOnlineIntervalMs ?? 60_000,
      maxPending: o.updateDeviceStatusBuffer ?? 1024,
      workers: o.updateDeviceStatusWorkers ?? 1,
    });
    if (!o.enabled) {
      this.#ready = Promise.resolve();
      return;
    }
    this.#devices.addHandler((t, obj, old) => {
      if (this.#early === undefined) this.#onDevice(t, obj, old);
      else this.#early.push([t, obj, old]);
    });
    const flushed = this.#models.synced.then(() => {
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const [t, obj, old] of early) this.#onDevice(t, obj, old);
    });
    this.#ready = Promise.all([this.#devices.synced, flushed]).then(() => {
      this.#listed = true;
    });
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    this.#started = true;
    this.#o.informers.start();
    if (this.enabled) void this.#ready.then(() => this.#removeStale());
  }

  /**
   * Devices deleted (or moved) while cloudcore was down raise no event now; the ObjectSyncs still say the edge has
   * them. Those get removed from the edge as a delete event would (KubeEdge's synccontroller does it for every kind).
   */
  async #removeStale(): Promise<void> {
    if (this.#o.records === undefined || !this.#started) return;
    let records: AckedRecord[];
    try {
      records = await this.#o.records.list();
    } catch (err) {
      this.#log.warn({ err }, 'listing ObjectSyncs failed; devices removed while cloudcore was down stay on their edges');
      return;
    }
    const gone = (r: AckedRecord): KubeObject => ({
      apiVersion: DEVICES_API_VERSION,
      kind: r.kind,
      metadata: { name: r.name, namespace: r.namespace, uid: r.uid, resourceVersion: r.ackedRv },
    });
    for (const r of records) {
      if (r.kind !== 'Device') continue;
      const cur = this.#devices.get(r.namespace, r.name);
      if (cur !== undefined && cur.metadata?.uid === r.uid && nodeOf(cur) === r.nodeName) continue;
      this.#send(membershipUpdateMessage(r.nodeName, { removed: [gone(r)] }));
      this.#send(objectMessage(r.nodeName, 'delete', 'Device', gone(r)));
    }
    for (const r of records) {
      if (r.kind !== 'DeviceModel') continue;
      const used = this.#devices.list().some((d) => nodeOf(d) === r.nodeName && (d.metadata?.namespace ?? '') === r.namespace && modelOf(d) === r.name);
      const cur = this.#models.get(r.namespace, r.name);
      if (used && cur?.metadata?.uid === r.uid) continue;
      this.#send(objectMessage(r.nodeName, 'delete', 'DeviceModel', gone(r)));
    }
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    if (this.#started) this.#o.informers.stop();
    this.#started = false;
    await this.#writer.stop();
  }

  stats(): DeviceControllerStats {
    return { ...this.#writer.stats(), rejected: this.#rejected, detailAnswered: this.#detailAnswered };
  }

  #send(m: Message): void {
    this.#bus?.send(CloudModules.cloudHub, m);
  }

  // --- downstream ---------------------------------------------------------------------------------------------

  #onDevice(type: InformerEventType, device: KubeObject, old: KubeObject | undefined): void {
    this.#index(type, device, old);
    if (type === 'add') return this.#added(device);
    if (type === 'delete') {
      this.#writer.forget(device.metadata?.namespace ?? '', device.metadata?.name ?? '');
      return this.#deleted(device);
    }
    if (old === undefined) return this.#added(device);
    if (!changedForEdge(old, device)) return; // a status write (often ours) or a resourceVersion bump
    const before = nodeOf(old);
    const after = nodeOf(device);
    if (before !== after) {
      this.#deleted(old);
      this.#added(device);
    } else if (after !== '') {
      this.#sendModel(after, device, 'update');
      this.#send(objectMessage(after, 'update', 'Device', device));
    }
  }

  #added(device: KubeObject): void {
    const node = nodeOf(device);
    if (node === '') return;
    this.#send(membershipUpdateMessage(node, { added: [device] }));
    if (!this.#modelUsedElsewhere(device, node)) this.#sendModel(node, device, 'insert');
    this.#send(objectMessage(node, 'insert', 'Device', device));
  }

  #deleted(device: KubeObject): void {
    const node = nodeOf(device);
    if (node === '') return;
    this.#send(membershipUpdateMessage(node, { removed: [device] }));
    if (!this.#modelUsedElsewhere(device, node)) this.#sendModel(node, device, 'delete');
    this.#send(objectMessage(node, 'delete', 'Device', device));
  }

  /** Whether another device on `node` uses the same model (then the node keeps, or already has, the model). */
  #modelUsedElsewhere(device: KubeObject, node: string): boolean {
    const ns = device.metadata?.namespace ?? '';
    const name = device.metadata?.name ?? '';
    const model = modelOf(device);
    return this.#devices.list().some((d) => (d.metadata?.namespace ?? '') === ns && d.metadata?.name !== name && nodeOf(d) === node && modelOf(d) === model);
  }

  #sendModel(node: string, device: KubeObject, op: 'insert' | 'update' | 'delete'): void {
    const name = modelOf(device);
    if (name === '') return;
    const model = this.#models.get(device.metadata?.namespace ?? '', name);
    if (model === undefined) {
      this.#log.warn({ device: device.metadata?.name, model: name, op }, 'device model not found; device sent without it');
      return;
    }
    this.#send(objectMessage(node, op, 'DeviceModel', model));
  }

  // --- upstream -----------------------------------------------------------------------------------------------

  #onMessage(msg: Message): void {
    if (!this.#listed) {
      // Just started (edges reconnect at once): a detail answer now would list too few devices, and the edge drops
      // those not listed; a report would miss its device. Both wait for the lists.
      void this.#ready.then(() => this.#onMessage(msg));
      return;
    }
    let up: Upstream;
    try {
      up = parseUpstream(msg);
    } catch (err) {
      this.#reject(msg, err);
      return;
    }
    if (up.kind === 'detail') {
      const devices = this.#devices.list().filter((d) => nodeOf(d) === up.nodeId);
      this.#detailAnswered++;
      this.#send(membershipDetailMessage(up.nodeId, devices));
      this.#send(twinAckMessage(up.nodeId, msg.header.msg_id));
      return;
    }
    const device = this.#deviceOn(up.nodeId, up.deviceId);
    if (device === undefined) {
      this.#reject(msg, new MalformedMessageError(`node ${up.nodeId} has no device ${up.deviceId}`, { resource: msg.route.resource }));
      // Confirmed all the same: a report about a device the node lost must not be resent for ever.
      this.#send(twinAckMessage(up.nodeId, up.msgId));
      return;
    }
    const change: StatusChange =
      up.kind === 'twin'
        ? { twins: up.twins }
        : { twins: {}, state: up.state, ...(up.lastOnlineTime === undefined ? {} : { lastOnlineTime: up.lastOnlineTime }) };
    const r = this.#writer.offer(device.metadata?.namespace ?? '', device.metadata?.name ?? '', change, { nodeId: up.nodeId, msgId: up.msgId });
    if (r === 'refused')
      this.#log.warn({ node: up.nodeId, device: up.deviceId }, 'too many devices waiting for a status write; report not confirmed (the edge resends it)');
  }

  #index(type: InformerEventType, device: KubeObject, old: KubeObject | undefined): void {
    const name = device.metadata?.name ?? '';
    if (old !== undefined) this.#byNode.get(nodeOf(old))?.delete(name);
    if (type === 'delete') {
      this.#byNode.get(nodeOf(device))?.delete(name);
      return;
    }
    const node = nodeOf(device);
    if (node === '') return;
    let m = this.#byNode.get(node);
    if (m === undefined) this.#byNode.set(node, (m = new Map()));
    m.set(name, `${device.metadata?.namespace ?? ''}/${name}`);
  }

  /** The edge names a device by its name only (KubeEdge v1.15: id = name); the one bound to this node is meant. */
  #deviceOn(nodeId: string, deviceId: string): KubeObject | undefined {
    const key = this.#byNode.get(nodeId)?.get(deviceId);
    if (key === undefined) return undefined;
    const [ns = '', name = ''] = key.split('/');
    return this.#devices.get(ns, name);
  }

  #reject(msg: Message, err: unknown): void {
    this.#rejected++;
    this.#log.warn({ err, resource: msg.route.resource, operation: msg.route.operation }, 'device message rejected');
  }
}

function nodeOf(device: KubeObject): string {
  const n = (device['spec'] as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === 'string' ? n : '';
}

function modelOf(device: KubeObject): string {
  const n = (device['spec'] as { deviceModelRef?: { name?: unknown } } | undefined)?.deviceModelRef?.name;
  return typeof n === 'string' ? n : '';
}

/**
 * KubeEdge's `isDeviceUpdated`: metadata or spec changed. The resourceVersion, generation and managedFields move
 * with every status write, which the edge is not sent (it reported the status).
 */
export function changedForEdge(old: KubeObject, cur: KubeObject): boolean {
  const meta = (o: KubeObject) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _m, ...rest } = (o.metadata ?? {}) as Record<string, unknown>;
    return rest;
  };
  return JSON.stringify(meta(old)) !== JSON.stringify(meta(cur)) || JSON.stringify(old['spec']) !== JSON.stringify(cur['spec']);
}
