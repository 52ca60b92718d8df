import { randomUUID } from 'node:crypto';
import { cloudDevices } from './cloud-device.ts';
import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { contentAsObject, newMessage, newResponse, Operation, parseResource, ResourceType, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { applyTwinUpdate, publicTwins, twinDelta, type DealType } from './logic.ts';
import { TwinStore } from './store.ts';
import {
  Code,
  DEVICE_STATES,
  deviceTopic,
  MembershipSuffix,
  NODE_PREFIX,
  parseTwinTopic,
  TwinSuffix,
  type BaseMessage,
  type MsgTwin,
  type TwinDevice,
} from './types.ts';

export type DeviceTwinOptions = {
  enable?: boolean;
  nodeName: string;
  /** `database.dataSource`: the device tables live beside MetaManager's `meta`. */
  dataSource: string;
  /** How long to wait for the cloud's answer to `membership/detail` and to twin reports. */
  cloudTimeoutMs?: number;
};

export type DeviceTwinStats = { updates: number; rejected: number; toCloud: number; published: number; stale: number };

type K8sObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string }; spec?: Record<string, unknown>; [k: string]: unknown };

const DMI = 'dmi';
const CLOUD_SOURCES = new Set(['devicecontroller', 'edgemgr']);

function base(): BaseMessage {
  return { event_id: randomUUID(), timestamp: Date.now() };
}

/**
 * DeviceTwin (`twin`, group `twin`): the devices of this node, their attributes and twins (desired = expected,
 * reported = actual) in SQLite; answers MQTT twin/state/membership topics, reports to the cloud, hands devices to
 * the DMI module, and keeps working while the cloud is away.
 */
export class DeviceTwin implements Module {
  readonly name = EdgeModules.deviceTwin;
  readonly group = EdgeGroups.twin;
  readonly enabled: boolean;
  readonly #o: DeviceTwinOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #store: TwinStore | undefined;
  readonly #devices = new Map<string, TwinDevice>();
  /** v1beta1 Device and DeviceModel objects as the cloud sent them (through MetaManager), by `<ns>/<name>`. */
  readonly #objects = new Map<string, K8sObject>();
  readonly #models = new Map<string, K8sObject>();
  /** Per device, bumped by every change that the cloud must hear; an ack clears the pending flag only if unchanged since. */
  readonly #generation = new Map<string, number>();
  #connected = false;
  /** Devices the cloud names other than `<ns>/<name>` (KubeEdge v1.15's DeviceController: the bare name). */
  #cloudIds = new Map<string, string>();
  /** Devices an MQTT client addressed by bare name (`$hw/events/device/<name>/...`, KubeEdge v1.15's topics). */
  readonly #legacy = new Set<string>();
  readonly #stats: DeviceTwinStats = { updates: 0, rejected: 0, toCloud: 0, published: 0, stale: 0 };

  constructor(o: DeviceTwinOptions) {
    this.#o = o;
    this.enabled = o.enable ?? true;
  }

  get stats(): Readonly<DeviceTwinStats> {
    return { ...this.#stats };
  }

  /** A copy of a device as stored (tests, diagnostics). */
  device(id: string): TwinDevice | undefined {
    const d = this.#devices.get(id);
    return d === undefined ? undefined : structuredClone(d);
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    this.#store = new TwinStore(this.#o.dataSource);
    for (const d of this.#store.loadAll()) this.#devices.set(d.id, d);
    this.#cloudIds = this.#store.cloudIds();
    ctx.bus.register(this.name, this.group, (m) => this.#dispatch(m));
    await this.#loadObjects(ctx.bus);
    for (const id of this.#objects.keys()) this.#toDmi(id, Operation.insert);
    ctx.log.info({ devices: this.#devices.size, pending: this.#store.pending().length }, 'device twin loaded');
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#store?.close();
    this.#store = undefined;
  }

  /** Device and DeviceModel objects stay in MetaManager's store; ask it for them (the bus, not its tables). */
  async #loadObjects(bus: Bus): Promise<void> {
    for (const type of [ResourceType.deviceModel, ResourceType.device]) {
      try {
        const reply = await bus.request(
          EdgeModules.metaManager,
          newMessage({ source: this.name, group: EdgeGroups.meta, operation: Operation.query, resource: `/${type}` }),
          10_000,
        );
        const items = contentAsObject(reply);
        if (!Array.isArray(items)) continue;
        for (const it of items) {
          const obj = (typeof it === 'string' ? JSON.parse(it) : it) as K8sObject;
          const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`;
          if (type === ResourceType.device) this.#objects.set(key, obj);
          else this.#models.set(key, obj);
        }
      } catch (err) {
        this.#log?.warn({ err, type }, 'cannot read stored device objects from metamanager');
      }
    }
  }

  #dispatch(m: Message): void {
    try {
      this.#handle(m);
    } catch (err) {
      this.#stats.rejected++;
      this.#log?.error({ err, resource: m.route.resource, source: m.route.source }, 'twin message failed');
    }
  }

  #handle(m: Message): void {
    const r = m.route;
    const source = r.source ?? '';
    if (r.operation === Operation.connect && r.resource === 'node/connection') {
      this.#onConnection(m.content === 'cloud_connected');
      return;
    }
    if (source === EdgeGroups.bus) {
      const topic = decodeBase64Url(r.resource ?? '');
      if (topic === undefined) return this.#reject(m, 'resource is not a base64url topic');
      this.#onTopic(topic, payloadText(m.content));
      return;
    }
    if (source === DMI) {
      if (r.operation === Operation.query && r.resource === 'dmi/devices') {
        this.#bus?.respond(
          newResponse(m, { items: [...this.#objects.keys()].map((id) => this.#dmiContent(id)) }, { source: this.name, group: EdgeGroups.twin }),
        );
        return;
      }
      this.#onTopic(r.resource ?? '', payloadText(m.content));
      return;
    }
    if (source === EdgeGroups.meta) {
      this.#onObject(m);
      return;
    }
    if (CLOUD_SOURCES.has(source)) {
      this.#onCloud(m);
      return;
    }
    this.#reject(m, 'unknown source');
  }

  #reject(m: Message, why: string): void {
    this.#stats.rejected++;
    this.#log?.warn({ source: m.route.source, resource: m.route.resource, op: m.route.operation }, `twin message rejected: ${why}`);
  }

  /**
   * KubeEdge v1.15's DeviceController names devices by bare name in membership messages (`ID: device.Name`), while
   * the Device object it sends beside them has the namespace: a bare name means the device of that name we already
   * know (object or row), else one in `default` until its object says otherwise.
   */
  #idOf(raw: string): string {
    if (raw.includes('/')) return raw;
    for (const id of [...this.#objects.keys(), ...this.#devices.keys()]) if (id.split('/')[1] === raw) return id;
    return `default/${raw}`;
  }

  /** A device a bare-name membership put in `default` moves to the namespace its object names. */
  #adopt(id: string): void {
    const [ns, name] = id.split('/');
    const guess = `default/${name}`;
    if (ns === 'default' || this.#devices.has(id) || this.#objects.has(guess)) return;
    const dev = this.#devices.get(guess);
    if (dev === undefined) return;
    const moved: TwinDevice = { ...structuredClone(dev), id };
    this.#store?.deleteDevice(guess);
    this.#devices.delete(guess);
    this.#store?.putDevice(moved);
    const names = Object.keys(moved.twin ?? {});
    if (names.length > 0) this.#store?.putTwins(id, moved.twin ?? {}, names, false);
    this.#devices.set(id, moved);
    const cloudId = this.#cloudIds.get(guess);
    this.#cloudIds.delete(guess);
    if (cloudId !== undefined) {
      this.#cloudIds.set(id, cloudId);
      this.#store?.setCloudId(id, cloudId);
    }
  }

  // ---- the cloud link ----

  #onConnection(up: boolean): void {
    const was = this.#connected;
    this.#connected = up;
    if (!up || was) return;
    this.#requestDetail();
    for (const id of this.#store?.pending() ?? []) {
      this.#syncToCloud(id);
      this.#sendState(id);
    }
  }

  /** communicate.go detailRequest: sent on every (re)connect, answered (if at all) with the node's device list. */
  #requestDetail(): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    const b = base();
    const content = JSON.stringify({
      event_type: 'group_membership_event',
      event_id: b.event_id,
      group_id: this.#o.nodeName,
      operation: 'detail',
      timestamp: b.timestamp,
    });
    const msg = newMessage({ source: this.name, group: 'resource', operation: 'get', resource: 'membership/detail', content });
    bus.awaitResponse(msg.header.msg_id, this.#o.cloudTimeoutMs ?? 60_000).then(
      (reply) => {
        if (reply.route.operation !== Operation.error) this.#onCloud(reply);
      },
      () => undefined,
    );
    bus.send(EdgeModules.edgeHub, msg);
  }

  #onCloud(m: Message): void {
    const resource = m.route.resource ?? '';
    const content = contentAsObject(m);
    if (resource.includes('membership/detail')) {
      const raw = (content as { devices?: unknown } | null)?.devices;
      const devices = raw === undefined || raw === null ? undefined : cloudDevices(raw);
      if (devices === undefined) return this.#reject(m, 'membership detail without devices');
      const listed = new Set<string>();
      for (const d of devices) listed.add(this.#addDevice(d));
      for (const id of [...this.#devices.keys()]) if (!listed.has(id)) this.#removeDevice(id);
      return;
    }
    if (resource.includes('twin/cloud_updated')) {
      const parts = resource.split('/');
      const i = parts.indexOf('device');
      const rest = parts.slice(i + 1, parts.indexOf('twin'));
      const id = this.#idOf(rest.join('/'));
      const twin = (content as { twin?: Record<string, MsgTwin> } | null)?.twin;
      if (twin === undefined || twin === null || typeof twin !== 'object' || Array.isArray(twin)) return this.#reject(m, 'cloud_updated without twin');
      this.#applyTwins(id, twin, 'sync', (content as { event_id?: string }).event_id ?? '');
      return;
    }
    if (resource.includes(ResourceType.membership)) {
      const c = content as { added_devices?: unknown; removed_devices?: unknown } | null;
      if (c === null || typeof c !== 'object') return this.#reject(m, 'membership update without content');
      const added = cloudDevices(c.added_devices);
      const removed = cloudDevices(c.removed_devices);
      if (added === undefined || removed === undefined) return this.#reject(m, 'membership update whose added_devices/removed_devices is not a list');
      for (const d of added) this.#addDevice(d);
      for (const d of removed) this.#removeDevice(this.#idOf(d.id));
      return;
    }
    if (m.route.operation === Operation.response) return; // an ack of our report, handled where it was sent
    this.#reject(m, 'cloud message not for the twin');
  }

  /** Adds (or refreshes) a device from the cloud's twin-format data; its twins arrive as a cloud sync. */
  #addDevice(d: TwinDevice): string {
    const raw = d.id ?? d.name;
    const id = this.#idOf(raw);
    // report under the id the cloud used, so a v1.15 cloud (bare names) finds the device it sent
    if (raw !== id && this.#cloudIds.get(id) !== raw) {
      this.#cloudIds.set(id, raw);
      this.#store?.setCloudId(id, raw);
    }
    const cur = this.#devices.get(id);
    const dev: TwinDevice = { ...(cur ?? { twin: {}, attributes: {} }), id, name: d.name ?? id.split('/')[1] ?? id };
    if (d.description !== undefined) dev.description = d.description;
    if (d.attributes !== undefined) dev.attributes = structuredClone(d.attributes);
    this.#store?.putDevice(dev);
    this.#devices.set(id, dev);
    if (d.twin !== undefined && Object.keys(d.twin).length > 0) {
      const withVersions: Record<string, MsgTwin> = {};
      for (const [k, t] of Object.entries(d.twin)) {
        if (t === null) continue;
        const stored = dev.twin?.[k];
        withVersions[k] = {
          ...t,
          expected_version: t.expected_version ?? { cloud: (stored?.expected_version?.cloud ?? 0) + 1, edge: stored?.expected_version?.edge ?? 0 },
          ...(t.actual !== undefined
            ? { actual_version: t.actual_version ?? { cloud: stored?.actual_version?.cloud ?? 0, edge: stored?.actual_version?.edge ?? 0 } }
            : {}),
        };
      }
      this.#applyTwins(id, withVersions, 'sync', '');
    }
    return id;
  }

  #removeDevice(id: string): void {
    if (!this.#devices.has(id)) return;
    this.#store?.deleteDevice(id);
    this.#devices.delete(id);
    this.#generation.delete(id);
    this.#objects.delete(id);
    this.#cloudIds.delete(id);
    this.#bus?.send(
      DMI,
      newMessage({
        source: this.name,
        group: DMI,
        operation: Operation.delete,
        resource: `device/${id}`,
        content: { device: { metadata: { namespace: id.split('/')[0], name: id.split('/')[1] } } },
      }),
    );
  }

  /** v1beta1 Device / DeviceModel objects, stored by MetaManager and passed on (KubeEdge's MetaDeviceOperation). */
  #onObject(m: Message): void {
    const { namespace, type, name } = parseResource(m.route.resource ?? '');
    const id = `${namespace}/${name}`;
    const op = m.route.operation;
    const obj = contentAsObject(m) as K8sObject | null;
    if (type === ResourceType.deviceModel) {
      if (op === Operation.delete) this.#models.delete(id);
      else if (obj !== null && typeof obj === 'object') this.#models.set(id, obj);
      return;
    }
    if (type !== ResourceType.device || name === '') return this.#reject(m, 'not a device object');
    if (op === Operation.delete) {
      this.#removeDevice(id);
      return;
    }
    if (obj === null || typeof obj !== 'object') return this.#reject(m, 'device object missing');
    this.#adopt(id);
    this.#objects.set(id, obj);
    const cur = this.#devices.get(id);
    const dev: TwinDevice = cur ?? { id, name, twin: {}, attributes: {} };
    if (cur === undefined) {
      this.#store?.putDevice(dev);
      this.#devices.set(id, dev);
    }
    // desired values of the spec become the twins' expected values, as a cloud change
    const props = (obj.spec?.['properties'] as Array<{ name?: string; desired?: { value?: unknown } }> | undefined) ?? [];
    const model = this.#modelOf(obj);
    const types = new Map<string, string>();
    for (const p of (model?.spec?.['properties'] as Array<{ name?: string; type?: string }> | undefined) ?? []) {
      if (typeof p.name === 'string' && typeof p.type === 'string') types.set(p.name, p.type.toLowerCase());
    }
    const change: Record<string, MsgTwin> = {};
    for (const p of props) {
      if (typeof p.name !== 'string') continue;
      const stored = dev.twin?.[p.name];
      const desired = p.desired?.value;
      const t: MsgTwin = { optional: true, metadata: { type: stored?.metadata?.type ?? types.get(p.name) ?? 'string' } };
      if (desired !== undefined && desired !== null && String(desired) !== '' && String(desired) !== stored?.expected?.value) {
        t.expected = { value: String(desired) };
        t.expected_version = { cloud: (stored?.expected_version?.cloud ?? 0) + 1, edge: stored?.expected_version?.edge ?? 0 };
        change[p.name] = t;
      } else if (stored === undefined || stored.metadata?.type === 'deleted') {
        t.expected_version = { cloud: 0, edge: 0 };
        change[p.name] = t;
      }
    }
    if (Object.keys(change).length > 0) this.#applyTwins(id, change, 'sync', '', true);
    this.#toDmi(id, op === Operation.insert ? Operation.insert : Operation.update);
  }

  #modelOf(device: K8sObject): K8sObject | undefined {
    const ref = (device.spec?.['deviceModelRef'] as { name?: string } | undefined)?.name;
    if (ref === undefined) return undefined;
    return this.#models.get(`${device.metadata?.namespace ?? 'default'}/${ref}`);
  }

  /** Contract B: the Device object with the twins' current expected values as desired, and its model. */
  #dmiContent(id: string): { device: K8sObject; model: K8sObject | null } {
    const obj = structuredClone(this.#objects.get(id) ?? {}) as K8sObject;
    const dev = this.#devices.get(id);
    const props = obj.spec?.['properties'] as Array<{ name?: string; desired?: { value?: string; metadata?: Record<string, string> } }> | undefined;
    for (const p of props ?? []) {
      const expected = p.name === undefined ? undefined : dev?.twin?.[p.name]?.expected?.value;
      if (expected !== undefined) p.desired = { ...(p.desired ?? {}), value: expected };
    }
    return { device: obj, model: this.#modelOf(obj) ?? null };
  }

  #toDmi(id: string, operation: string): void {
    if (!this.#objects.has(id)) return;
    this.#bus?.send(DMI, newMessage({ source: this.name, group: DMI, operation, resource: `device/${id}`, content: this.#dmiContent(id) }));
  }

  // ---- MQTT (EventBus) and mappers (DMI) ----

  #onTopic(topic: string, payload: string): void {
    const t = parseTwinTopic(topic);
    if (t === undefined) {
      this.#stats.rejected++;
      this.#log?.debug({ topic }, 'topic not handled by the twin');
      return;
    }
    if (t.kind === 'node') {
      this.#membershipGet(t.node, payload);
      return;
    }
    const body = parsePayload(payload);
    if (t.legacyName !== undefined) {
      t.id = this.#idOf(t.legacyName);
      this.#legacy.add(t.id);
    }
    switch (t.suffix) {
      case TwinSuffix.update: {
        if (body === undefined) return this.#result(t.id, '', Code.badRequest, 'Unmarshal update request body failed, please check the request');
        const twin = body['twin'];
        if (typeof twin !== 'object' || twin === null)
          return this.#result(t.id, str(body['event_id']), Code.badRequest, 'Update twin error, key:twin does not exist');
        this.#applyTwins(t.id, twin as Record<string, MsgTwin | null>, 'rest', str(body['event_id']));
        return;
      }
      case TwinSuffix.get:
        this.#twinGet(t.id, body);
        return;
      case TwinSuffix.stateUpdate:
        this.#stateUpdate(t.id, body);
        return;
      default:
        this.#stats.rejected++;
        this.#log?.debug({ topic }, 'twin topic not handled');
    }
  }

  #publish(topic: string, payload: unknown): void {
    this.#stats.published++;
    this.#bus?.send(
      EdgeModules.eventBus,
      newMessage({ source: this.name, group: EdgeGroups.bus, operation: Operation.publish, resource: topic, content: JSON.stringify(payload) }),
    );
  }

  /** Publishes on the device's topic, and on its bare-name (KubeEdge v1.15) topic too once a client used that form. */
  #publishDevice(id: string, suffix: string, payload: unknown): void {
    this.#publish(deviceTopic(id, suffix), payload);
    const name = id.split('/')[1];
    if (this.#legacy.has(id) && name !== undefined) this.#publish(deviceTopic(name, suffix), payload);
  }

  #result(id: string, eventId: string, code: number, reason: string): void {
    this.#stats.rejected++;
    this.#publishDevice(id, TwinSuffix.updateResult, { event_id: eventId, timestamp: Date.now(), code, reason });
  }

  /** DealDeviceTwin: store, answer on update/result (edge updates), publish document and delta, tell the cloud. */
  #applyTwins(id: string, twin: Record<string, MsgTwin | null>, deal: DealType, eventId: string, fromObject = false): void {
    const dev = this.#devices.get(id);
    if (dev === undefined) {
      if (deal === 'rest') this.#result(id, eventId, Code.notFound, 'Update rejected due to the device is not existed');
      return;
    }
    const now = Date.now();
    const ch = applyTwinUpdate(dev.twin ?? {}, twin, deal, now);
    if (ch.error !== undefined) {
      this.#result(id, eventId, Code.badRequest, ch.error);
      return;
    }
    const toCloud = ch.changed.length > 0 || Object.keys(ch.sync).length > 0;
    if (ch.changed.length > 0) {
      this.#store?.putTwins(id, ch.twins, ch.changed, toCloud);
      dev.twin = ch.twins;
    }
    this.#stats.updates++;
    if (deal === 'sync' && Object.keys(ch.sync).length > 0) this.#stats.stale++;
    if (deal === 'rest') this.#publishDevice(id, TwinSuffix.updateResult, { event_id: eventId, timestamp: now, twin: ch.result });
    if (Object.keys(ch.document).length > 0) this.#publishDevice(id, TwinSuffix.document, { event_id: eventId, timestamp: now, twin: ch.document });
    const delta = twinDelta(dev.twin ?? {});
    if (delta !== undefined && ch.changed.length > 0) this.#publishDevice(id, TwinSuffix.delta, { ...base(), twin: delta.twin, delta: delta.delta });
    const desiredChanged = ch.changed.some((k) => twin[k]?.expected !== undefined);
    if (deal === 'sync' && desiredChanged && !fromObject) this.#toDmi(id, Operation.update);
    if (toCloud) {
      this.#generation.set(id, (this.#generation.get(id) ?? 0) + 1);
      if (ch.changed.length === 0) this.#store?.setPending(id, true);
      this.#syncToCloud(id);
    }
  }

  /**
   * twin.go dealSyncResult: `device/<id>/twin/edge_updated` with the device's twins and versions. We send the whole
   * current twin set rather than only the last change, so after an offline spell the cloud gets the last value of
   * every property in one message (last value wins); the row stays pending until the cloud acknowledges it.
   */
  #syncToCloud(id: string): void {
    const bus = this.#bus;
    const dev = this.#devices.get(id);
    if (bus === undefined || dev === undefined) return;
    if (!this.#connected) {
      this.#store?.setPending(id, true);
      return;
    }
    const twin: Record<string, MsgTwin> = {};
    for (const [k, t] of Object.entries(dev.twin ?? {})) twin[k] = structuredClone(t);
    const msg = newMessage({
      source: this.name,
      group: 'resource',
      operation: Operation.update,
      resource: `device/${this.#cloudIds.get(id) ?? id}${TwinSuffix.edgeUpdated}`,
      content: { ...base(), twin },
    });
    const gen = this.#generation.get(id) ?? 0;
    this.#stats.toCloud++;
    bus.awaitResponse(msg.header.msg_id, this.#o.cloudTimeoutMs ?? 60_000).then(
      (reply) => {
        if (reply.route.operation === Operation.error) return;
        if ((this.#generation.get(id) ?? 0) === gen && this.#devices.has(id)) this.#store?.setPending(id, false);
      },
      () => undefined,
    );
    bus.send(EdgeModules.edgeHub, msg);
  }

  #twinGet(id: string, body: Record<string, unknown> | undefined): void {
    const publish = (p: unknown) => this.#publishDevice(id, TwinSuffix.getResult, p);
    const eventId = str(body?.['event_id']);
    const dev = this.#devices.get(id);
    if (body === undefined) return publish({ event_id: '', timestamp: Date.now(), code: Code.badRequest, reason: 'Unmarshal twin info failed' });
    if (dev === undefined)
      return publish({ event_id: eventId, timestamp: Date.now(), code: Code.notFound, reason: `Device ${id} not found while getting twin` });
    publish({ event_id: eventId, timestamp: Date.now(), twin: publicTwins(dev.twin ?? {}) });
  }

  /** device.go dealDeviceStateUpdate: state and last_online stored, result published, cloud told. */
  #stateUpdate(id: string, body: Record<string, unknown> | undefined): void {
    const dev = this.#devices.get(id);
    const state = str(body?.['state']);
    if (dev === undefined || !DEVICE_STATES.has(state.toLowerCase())) {
      this.#stats.rejected++;
      return;
    }
    dev.state = state;
    dev.last_online = goTime(new Date());
    this.#store?.putDevice({
      id: dev.id,
      name: dev.name,
      ...(dev.description !== undefined ? { description: dev.description } : {}),
      state: dev.state,
      last_online: dev.last_online,
    });
    const payload = { ...base(), device: { name: dev.name, state: dev.state, last_online: dev.last_online } };
    this.#publishDevice(id, TwinSuffix.stateUpdateResult, payload);
    if (this.#connected) this.#sendState(id, payload);
    // offline: the device is flagged pending and its last state goes up with its twin on reconnect
    else this.#store?.setPending(id, true);
  }

  /** device.go: `device/<id>/state/update`, content a JSON string `{event_id, timestamp, device:{name, state, last_online}}`. */
  #sendState(id: string, payload?: unknown): void {
    const dev = this.#devices.get(id);
    if (dev === undefined || dev.state === undefined || dev.state === '' || !this.#connected) return;
    const body = payload ?? { ...base(), device: { name: dev.name, state: dev.state, last_online: dev.last_online } };
    this.#stats.toCloud++;
    this.#bus?.send(
      EdgeModules.edgeHub,
      newMessage({
        source: this.name,
        group: 'resource',
        operation: Operation.update,
        resource: `device/${this.#cloudIds.get(id) ?? id}${TwinSuffix.stateUpdate}`,
        content: JSON.stringify(body),
      }),
    );
  }

  #membershipGet(node: string, payload: string): void {
    const body = parsePayload(payload);
    const devices = [...this.#devices.values()].map((d) => ({
      id: d.id,
      name: d.name,
      ...(d.description !== undefined ? { description: d.description } : {}),
      ...(d.state !== undefined ? { state: d.state } : {}),
      ...(d.last_online !== undefined ? { last_online: d.last_online } : {}),
      ...(d.attributes !== undefined && Object.keys(d.attributes).length > 0 ? { attributes: d.attributes } : {}),
    }));
    this.#publish(`${NODE_PREFIX}${node}${MembershipSuffix.getResult}`, { event_id: str(body?.['event_id']), timestamp: Date.now(), devices });
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function payloadText(content: unknown): string {
  if (typeof content === 'string') return content;
  return JSON.stringify(content ?? null);
}

function parsePayload(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function decodeBase64Url(resource: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(resource)) return undefined;
  return Buffer.from(resource, 'base64url').toString('utf8');
}

/** Go's "2006-01-02 15:04:05" in local time, as KubeEdge writes last_online. */
function goTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
