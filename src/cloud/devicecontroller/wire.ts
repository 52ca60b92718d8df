import { randomUUID } from 'node:crypto';
import { MalformedMessageError } from '../../core/errors.ts';
import { newMessage, type Message } from '../../core/message.ts';
import type { KubeObject } from '../../kube/rest.ts';
import { CloudModules } from '../common/modules.ts';

/**
 * The device half of KubeEdge v1.15's cloud <-> edge wire (cloud/pkg/devicecontroller): message resources,
 * operations, groups and content shapes. Pure functions, no I/O; the fixtures of wire.test.ts pin them.
 */

export const DEVICES_GROUP = 'devices.kubeedge.io';
export const DEVICES_API_VERSION = `${DEVICES_GROUP}/v1beta1`;

/** Message groups the edge routes by: `twin` goes to DeviceTwin, `resource` to MetaManager (and on to DMI). */
export const DeviceGroups = { twin: 'twin', resource: 'resource' } as const;

/** One device as membership messages carry it (KubeEdge's `types.Device`, only what v1.15 fills in). */
export type EdgeDevice = { id: string; name: string; description?: string };

export type MembershipUpdate = { event_id: string; timestamp: number; added_devices: EdgeDevice[]; removed_devices: EdgeDevice[] };
export type MembershipDetail = { event_id: string; timestamp: number; devices: EdgeDevice[] };

/** The edge knows a device by its name alone (v1.15: `ID = Name`); the `description` label goes along. */
export function edgeDevice(device: KubeObject): EdgeDevice {
  const name = device.metadata?.name ?? '';
  const d: EdgeDevice = { id: name, name };
  const description = (device.metadata?.labels as Record<string, unknown> | undefined)?.['description'];
  if (typeof description === 'string') d.description = description;
  return d;
}

function baseMessage(): { event_id: string; timestamp: number } {
  return { event_id: randomUUID(), timestamp: Date.now() };
}

/** `node/<node>/membership`, op `update`: devices added to or removed from the node (never acked, like KubeEdge). */
export function membershipUpdateMessage(nodeId: string, change: { added?: KubeObject[]; removed?: KubeObject[] }): Message {
  const content: MembershipUpdate = {
    ...baseMessage(),
    added_devices: (change.added ?? []).map(edgeDevice),
    removed_devices: (change.removed ?? []).map(edgeDevice),
  };
  return newMessage({ source: CloudModules.deviceController, group: DeviceGroups.twin, operation: 'update', resource: `node/${nodeId}/membership`, content });
}

/**
 * The answer to an edge's `membership/detail` request (sent by DeviceTwin on every connect): all devices bound to
 * the node. Not a reply (no parent id): KubeEdge's DeviceTwin takes any twin message with a parent id for a mere
 * confirmation and would not read the list; the request is confirmed apart ({@link twinAckMessage}). DeviceTwin
 * adds the devices it lacks and drops those not listed.
 */
export function membershipDetailMessage(nodeId: string, devices: KubeObject[]): Message {
  const content: MembershipDetail = { ...baseMessage(), devices: devices.map(edgeDevice) };
  return newMessage({
    source: CloudModules.deviceController,
    group: DeviceGroups.twin,
    operation: 'update',
    resource: `node/${nodeId}/membership/detail`,
    content,
  });
}

/**
 * `node/<node>/<ns>/device/<name>` or `.../devicemodel/<name>`: the full v1beta1 object with kind and apiVersion,
 * its resourceVersion in the header. Group `resource`, so the edge stores it (MetaManager) and hands it to DMI; it
 * is acked and goes through CloudHub's reliable queue like a pod.
 */
export function objectMessage(nodeId: string, operation: 'insert' | 'update' | 'delete', kind: 'Device' | 'DeviceModel', obj: KubeObject): Message {
  const typed: KubeObject = { ...obj, apiVersion: DEVICES_API_VERSION, kind };
  const ns = obj.metadata?.namespace ?? '';
  const type = kind === 'Device' ? 'device' : 'devicemodel';
  return newMessage({
    source: CloudModules.deviceController,
    group: DeviceGroups.resource,
    operation,
    resource: `node/${nodeId}/${ns === '' ? 'default' : ns}/${type}/${obj.metadata?.name ?? ''}`,
    content: typed,
    resourceVersion: obj.metadata?.resourceVersion ?? '',
  });
}

/** KubeEdge's confirmation of an edge report (`node/<node>/twin`, op `response`, "OK"): the edge stops resending it. */
export function twinAckMessage(nodeId: string, reportMsgId: string): Message {
  return newMessage({
    source: CloudModules.deviceController,
    group: DeviceGroups.twin,
    operation: 'response',
    resource: `node/${nodeId}/twin`,
    content: 'OK',
    parentId: reportMsgId,
  });
}

/** A reported or observed-desired value as it lands in `status.twins[]`. */
export type TwinValue = { value: string; metadata: Record<string, string> };
export type TwinReport = { reported?: TwinValue; observedDesired?: TwinValue };

/** What an edge message for the devicecontroller asks for. */
export type Upstream =
  | { kind: 'twin'; nodeId: string; deviceId: string; msgId: string; twins: Record<string, TwinReport> }
  | { kind: 'state'; nodeId: string; deviceId: string; msgId: string; state: string; lastOnlineTime: string | undefined }
  | { kind: 'detail'; nodeId: string };

/** The device states a v1.15 edge accepts from mappers (edge/pkg/devicetwin dealDeviceStateUpdate). */
const STATES = new Set(['online', 'offline', 'ok', 'unknown', 'disconnected']);

/**
 * Reads an upstream message (cloud form, `node/<node>/...`): `device/<id>/twin/edge_updated` (reported and
 * observed-desired values), `device/<id>/state/update` (state, last online time) or `membership/detail`.
 * Anything else, or a body without KubeEdge's shape, is a {@link MalformedMessageError}.
 */
export function parseUpstream(msg: Message): Upstream {
  const resource = msg.route.resource ?? '';
  const parts = resource.split('/');
  if (parts[0] !== 'node' || parts[1] === undefined || parts[1] === '')
    throw new MalformedMessageError('device message without node/<id>/ prefix', { resource });
  const nodeId = parts[1];
  const rest = parts.slice(2).join('/');
  if (rest === 'membership/detail') return { kind: 'detail', nodeId };
  const m = /^device\/([^/]+)\/(twin\/edge_updated|state\/update)$/.exec(rest);
  if (m === null || m[1] === undefined) throw new MalformedMessageError('not a device twin or state resource', { resource });
  const deviceId = m[1];
  const body = contentObject(msg.content, resource);
  if (m[2] === 'twin/edge_updated') return { kind: 'twin', nodeId, deviceId, msgId: msg.header.msg_id, twins: parseTwins(body['twin'], resource) };
  const device = body['device'];
  if (typeof device !== 'object' || device === null) throw new MalformedMessageError('state update without device', { resource });
  const d = device as Record<string, unknown>;
  const state = typeof d['state'] === 'string' ? d['state'] : '';
  if (!STATES.has(state.toLowerCase()))
    throw new MalformedMessageError(`device state ${JSON.stringify(state)} is not one of ${[...STATES].join(', ')}`, { resource });
  // v1.15 edges send `last_online`; later ones `lastOnlineTime`.
  const last = typeof d['last_online'] === 'string' ? d['last_online'] : typeof d['lastOnlineTime'] === 'string' ? d['lastOnlineTime'] : undefined;
  return { kind: 'state', nodeId, deviceId, msgId: msg.header.msg_id, state, lastOnlineTime: last === '' ? undefined : last };
}

/** Edge content arrives as an object, or as the JSON text of one (KubeEdge's twin sends a string for states). */
function contentObject(content: unknown, resource: string): Record<string, unknown> {
  let c = content;
  if (typeof c === 'string') {
    try {
      c = JSON.parse(c);
    } catch {
      throw new MalformedMessageError('content is not JSON', { resource });
    }
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new MalformedMessageError('content is not an object', { resource });
  return c as Record<string, unknown>;
}

function parseTwins(twin: unknown, resource: string): Record<string, TwinReport> {
  if (typeof twin !== 'object' || twin === null || Array.isArray(twin)) throw new MalformedMessageError('twin update without a twin map', { resource });
  const out: Record<string, TwinReport> = {};
  for (const [name, raw] of Object.entries(twin as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null) continue;
    const t = raw as { actual?: unknown; expected?: unknown; metadata?: { type?: unknown } };
    const type = typeof t.metadata?.type === 'string' ? t.metadata.type : undefined;
    const r: TwinReport = {};
    const reported = twinValue(t.actual, type);
    if (reported !== undefined) r.reported = reported;
    const desired = twinValue(t.expected, type);
    if (desired !== undefined) r.observedDesired = desired;
    if (r.reported !== undefined || r.observedDesired !== undefined) out[name] = r;
  }
  return out;
}

/** KubeEdge's `TwinValue` (`{value, metadata:{timestamp}}`) to the CRD's `TwinProperty` (string metadata). */
function twinValue(v: unknown, type: string | undefined): TwinValue | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const tv = v as { value?: unknown; metadata?: { timestamp?: unknown } };
  if (typeof tv.value !== 'string') return undefined;
  const metadata: Record<string, string> = {};
  const ts = tv.metadata?.timestamp;
  if (typeof ts === 'number' || typeof ts === 'string') metadata['timestamp'] = String(ts);
  if (type !== undefined) metadata['type'] = type;
  return { value: tv.value, metadata };
}
