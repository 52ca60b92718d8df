/**
 * DeviceTwin's payloads, with KubeEdge's JSON field names (`edge/pkg/devicetwin/dttype`), and its topic names
 * (`dtcommon/common.go`). Device ids are `<namespace>/<name>`.
 */

export type TwinVersion = { cloud: number; edge: number };
export type TwinValue = { value?: string; metadata?: { timestamp?: number } };
export type MsgTwin = {
  expected?: TwinValue;
  actual?: TwinValue;
  optional?: boolean;
  metadata?: { type?: string };
  expected_version?: TwinVersion;
  actual_version?: TwinVersion;
};
export type MsgAttr = { value: string; optional?: boolean; metadata?: { type?: string } };

/** A device as DeviceTwin holds it (KubeEdge's dttype.Device). */
export type TwinDevice = {
  id: string;
  name: string;
  description?: string;
  state?: string;
  last_online?: string;
  attributes?: Record<string, MsgAttr>;
  twin?: Record<string, MsgTwin>;
};

export type BaseMessage = { event_id: string; timestamp: number };

export const DEVICE_PREFIX = '$hw/events/device/';
export const NODE_PREFIX = '$hw/events/node/';

export const TwinSuffix = {
  update: '/twin/update',
  updateResult: '/twin/update/result',
  get: '/twin/get',
  getResult: '/twin/get/result',
  cloudUpdated: '/twin/cloud_updated',
  edgeUpdated: '/twin/edge_updated',
  delta: '/twin/update/delta',
  document: '/twin/update/document',
  stateUpdate: '/state/update',
  stateUpdateResult: '/state/update/result',
  stateGet: '/state/get',
  updated: '/updated',
} as const;

export const MembershipSuffix = {
  updated: '/membership/updated',
  detail: '/membership/detail',
  detailResult: '/membership/detail/result',
  get: '/membership/get',
  getResult: '/membership/get/result',
} as const;

export const DELETED = 'deleted';

/** KubeEdge's result codes. */
export const Code = { badRequest: 400, notFound: 404, conflict: 409, internal: 500 } as const;

/** Device states a mapper may report (KubeEdge ignores any other). */
export const DEVICE_STATES = new Set(['online', 'offline', 'ok', 'unknown', 'disconnected']);

/** An MQTT topic DeviceTwin handles, split into the device (or node) and what is asked. */
export type TwinTopic = { kind: 'device'; id: string; suffix: string; legacyName?: string } | { kind: 'node'; node: string; suffix: string };

const DEVICE_SUFFIXES: readonly string[] = [
  TwinSuffix.update,
  TwinSuffix.get,
  TwinSuffix.cloudUpdated,
  TwinSuffix.stateUpdate,
  TwinSuffix.stateGet,
  TwinSuffix.updated,
];

/** `$hw/events/device/<ns>/<name><suffix>` or `$hw/events/node/<node>/membership/get`; undefined otherwise. */
export function parseTwinTopic(topic: string): TwinTopic | undefined {
  if (topic.startsWith(DEVICE_PREFIX)) {
    const rest = topic.slice(DEVICE_PREFIX.length).split('/');
    const [ns, name] = rest;
    if (ns === undefined || ns === '') return undefined;
    const suffix = `/${rest.slice(2).join('/')}`;
    if (name !== undefined && name !== '' && rest.length >= 3 && DEVICE_SUFFIXES.includes(suffix)) return { kind: 'device', id: `${ns}/${name}`, suffix };
    // KubeEdge v1.15 addressed devices by bare name: `$hw/events/device/<name>/twin/update`
    const legacy = `/${rest.slice(1).join('/')}`;
    return rest.length >= 2 && DEVICE_SUFFIXES.includes(legacy) ? { kind: 'device', id: ns, suffix: legacy, legacyName: ns } : undefined;
  }
  if (topic.startsWith(NODE_PREFIX)) {
    const rest = topic.slice(NODE_PREFIX.length).split('/');
    const node = rest[0];
    const suffix = `/${rest.slice(1).join('/')}`;
    if (node === undefined || node === '' || suffix !== MembershipSuffix.get) return undefined;
    return { kind: 'node', node, suffix };
  }
  return undefined;
}

export function deviceTopic(id: string, suffix: string): string {
  return `${DEVICE_PREFIX}${id}${suffix}`;
}

/** A twin without its versions: what MQTT clients get (BuildDeviceTwinResult / CopyMsgTwin with noVersion). */
export function withoutVersions(t: MsgTwin): MsgTwin {
  const { expected_version: _e, actual_version: _a, ...rest } = t;
  return structuredClone(rest);
}
