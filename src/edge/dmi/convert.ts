/**
 * From what DeviceTwin hands over (devices.kubeedge.io/v1beta1 Device and DeviceModel objects) to DMI messages,
 * and from a mapper's report to the twin update DeviceTwin accepts. Pure functions: no bus, no sockets.
 */
import { encodeCustomized } from './api/codec.ts';
import type { PbDevice, PbDeviceModel, PbDeviceProperty, PbPushMethod, ReportDeviceStatusRequest } from './api/types.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const configData = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null ? obj(v) : undefined);

export type DeviceKey = { namespace: string; name: string };

export function deviceKey(device: unknown): DeviceKey {
  const m = obj(obj(device)['metadata']);
  return { namespace: str(m['namespace']) || 'default', name: str(m['name']) };
}

export const protocolOf = (device: unknown): string => str(obj(obj(obj(device)['spec'])['protocol'])['protocolName']);
export const modelNameOf = (device: unknown): string => str(obj(obj(obj(device)['spec'])['deviceModelRef'])['name']);

function pushMethod(v: unknown): PbPushMethod | null {
  if (v === undefined || v === null) return null;
  const p = obj(v);
  const out: PbPushMethod = {};
  if (p['http'] !== undefined) {
    const h = obj(p['http']);
    // v1beta1 spells it hostName and requestPath; the DMI message hostname and requestpath
    out.http = { hostname: str(h['hostName']), port: num(h['port']), requestpath: str(h['requestPath']), timeout: num(h['timeout']) };
  }
  if (p['mqtt'] !== undefined) {
    const m = obj(p['mqtt']);
    out.mqtt = { address: str(m['address']), topic: str(m['topic']), qos: num(m['qos']), retained: m['retained'] === true };
  }
  return out;
}

/** A v1beta1 Device as DMI's Device (KubeEdge's ConvertDevice: name without namespace, model by name). */
export function toPbDevice(device: unknown): PbDevice {
  const d = obj(device);
  const spec = obj(d['spec']);
  const protocol = obj(spec['protocol']);
  const properties: PbDeviceProperty[] = arr(spec['properties']).map((raw) => {
    const p = obj(raw);
    const desired = obj(p['desired']);
    const visitors = obj(p['visitors']);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(desired['metadata']))) if (typeof v === 'string') metadata[k] = v;
    return {
      name: str(p['name']),
      desired: { value: str(desired['value']), metadata },
      visitors: { protocolName: str(visitors['protocolName']), configData: encodeCustomized(configData(visitors['configData'])) },
      reportCycle: num(p['reportCycle']),
      collectCycle: num(p['collectCycle']),
      reportToCloud: p['reportToCloud'] === true,
      pushMethod: pushMethod(p['pushMethod']),
    };
  });
  return {
    name: deviceKey(device).name,
    spec: {
      deviceModelReference: modelNameOf(device),
      protocol: { protocolName: str(protocol['protocolName']), configData: encodeCustomized(configData(protocol['configData'])) },
      properties,
    },
  };
}

export function toPbDeviceModel(model: unknown): PbDeviceModel {
  const m = obj(model);
  const spec = obj(m['spec']);
  return {
    name: str(obj(m['metadata'])['name']),
    spec: {
      properties: arr(spec['properties']).map((raw) => {
        const p = obj(raw);
        return {
          name: str(p['name']),
          description: str(p['description']),
          type: str(p['type']),
          accessMode: str(p['accessMode']),
          minimum: str(p['minimum']),
          maximum: str(p['maximum']),
          unit: str(p['unit']),
        };
      }),
      commands: [],
    },
  };
}

export const twinUpdateTopic = (k: DeviceKey) => `$hw/events/device/${k.namespace}/${k.name}/twin/update`;
export const stateUpdateTopic = (k: DeviceKey) => `$hw/events/device/${k.namespace}/${k.name}/state/update`;

/** The twin types KubeEdge's DeviceTwin knows, from a DeviceModel property type (INT, FLOAT, ...). */
export function twinType(modelType: string): string {
  const t = modelType.toLowerCase();
  return t === 'bool' ? 'boolean' : t;
}

/**
 * A mapper's ReportDeviceStatus as the `$hw/events/device/.../twin/update` payload an MQTT client would publish:
 * reported values become `actual`. observedDesired is left out: DeviceTwin owns the desired side, and a mapper's
 * echo of it must not look like a new desired value.
 */
export type TwinUpdatePayload = { event_id: string; timestamp: number; twin: Record<string, unknown> };

export function twinUpdatePayload(req: ReportDeviceStatusRequest, types: Record<string, string>, eventId: string, now: number): TwinUpdatePayload {
  const twin: Record<string, unknown> = {};
  for (const t of req.reportedDevice?.twins ?? []) {
    if (t.propertyName === '' || t.reported === undefined || t.reported === null) continue;
    const type = types[t.propertyName];
    twin[t.propertyName] = {
      actual: { value: t.reported.value, metadata: { timestamp: now } },
      ...(type !== undefined && type !== '' ? { metadata: { type: twinType(type) } } : {}),
    };
  }
  return { event_id: eventId, timestamp: now, twin };
}

/** Property name to model type, for the twin metadata. */
export function propertyTypes(model: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of toPbDeviceModel(model).spec?.properties ?? []) out[p.name] = p.type;
  return out;
}
