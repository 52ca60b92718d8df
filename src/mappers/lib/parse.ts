import { decodeCustomized } from '../../edge/dmi/api/codec.ts';
import type { PbDevice, PbDeviceModel, PbDeviceProperty } from '../../edge/dmi/api/types.ts';
import type { MapperDevice, MapperProperty, PushMethod, Value } from './types.ts';

/** KubeEdge's mapper framework collects and reports every second when a cycle is not given. */
export const DEFAULT_CYCLE_MS = 1000;

const optNum = (s: string | undefined): number | undefined => {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

function pushMethod(p: PbDeviceProperty): PushMethod | undefined {
  const pm = p.pushMethod;
  if (pm === undefined || pm === null) return undefined;
  const out: PushMethod = {};
  if (pm.http) out.http = pm.http;
  if (pm.mqtt) out.mqtt = pm.mqtt;
  return out.http === undefined && out.mqtt === undefined ? undefined : out;
}

/** DMI's Device and its DeviceModel as the mapper's device. Properties the model does not declare are dropped. */
export function toMapperDevice(d: PbDevice, model: PbDeviceModel | undefined): MapperDevice {
  const spec = d.spec;
  const modelProps = new Map((model?.spec?.properties ?? []).map((p) => [p.name, p]));
  const properties: MapperProperty[] = [];
  for (const p of spec?.properties ?? []) {
    const mp = modelProps.get(p.name);
    const min = optNum(mp?.minimum);
    const max = optNum(mp?.maximum);
    const pm = pushMethod(p);
    properties.push({
      name: p.name,
      type: (mp?.type ?? 'string').toLowerCase(),
      accessMode: mp?.accessMode === 'ReadWrite' ? 'ReadWrite' : 'ReadOnly',
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
      visitor: decodeCustomized(p.visitors?.configData),
      desired: p.desired?.value ?? '',
      collectCycleMs: p.collectCycle > 0 ? p.collectCycle : DEFAULT_CYCLE_MS,
      reportCycleMs: p.reportCycle > 0 ? p.reportCycle : DEFAULT_CYCLE_MS,
      reportToCloud: p.reportToCloud,
      ...(pm !== undefined ? { pushMethod: pm } : {}),
    });
  }
  return {
    name: d.name,
    model: spec?.deviceModelReference ?? '',
    protocol: spec?.protocol?.protocolName ?? '',
    protocolConfig: decodeCustomized(spec?.protocol?.configData),
    properties,
  };
}

/** A read value as the twin's string, shaped by the property's type (an int is whole, a float has no noise digits). */
export function formatValue(p: Pick<MapperProperty, 'type'>, v: Value): string {
  if (typeof v === 'boolean') return p.type === 'int' ? (v ? '1' : '0') : String(v);
  if (typeof v === 'number') {
    if (p.type === 'int') return String(Math.round(v));
    if (p.type === 'boolean') return String(v !== 0);
    return String(Number(v.toFixed(6)));
  }
  return v;
}

/** A desired value checked against the model: a number for numeric types, within minimum..maximum. */
export function parseDesired(p: MapperProperty, s: string): Value | undefined {
  if (p.type === 'string') return s;
  if (p.type === 'boolean') return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) return undefined;
  if (p.minimum !== undefined && n < p.minimum) return undefined;
  if (p.maximum !== undefined && n > p.maximum) return undefined;
  return p.type === 'int' ? Math.round(n) : n;
}
