import protobuf from 'protobufjs';
import { KubeEdgeError } from '../../../core/errors.ts';
import type { PbAny, PbCustomizedValue } from './types.ts';

/**
 * configData values travel as google.protobuf wrappers packed in an Any, as KubeEdge's edgecore packs them:
 * strings as StringValue, booleans as BoolValue, whole numbers as Int32Value (Int64Value past 32 bits) and other
 * numbers as FloatValue. KubeEdge's mapper framework decodes exactly these five.
 */
const wrappers = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/wrappers.proto') as protobuf.INamespace);
const PREFIX = 'type.googleapis.com/';
const KINDS = ['StringValue', 'BoolValue', 'Int32Value', 'Int64Value', 'FloatValue', 'DoubleValue', 'UInt32Value', 'UInt64Value'] as const;
const types = new Map(KINDS.map((k) => [`google.protobuf.${k}`, wrappers.lookupType(`google.protobuf.${k}`)]));

export const DMI_VALUE_UNSUPPORTED = 'KE_DMI_VALUE_UNSUPPORTED';

function pack(kind: string, value: unknown): PbAny {
  const t = types.get(`google.protobuf.${kind}`);
  if (t === undefined) throw new KubeEdgeError(DMI_VALUE_UNSUPPORTED, `no wrapper ${kind}`);
  return { type_url: `${PREFIX}google.protobuf.${kind}`, value: t.encode(t.fromObject({ value })).finish() };
}

export function encodeAny(v: unknown): PbAny {
  if (typeof v === 'string') return pack('StringValue', v);
  if (typeof v === 'boolean') return pack('BoolValue', v);
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (Number.isInteger(v)) return pack(Math.abs(v) <= 0x7fffffff ? 'Int32Value' : 'Int64Value', v);
    return pack('FloatValue', v);
  }
  throw new KubeEdgeError(DMI_VALUE_UNSUPPORTED, `configData value of type ${Array.isArray(v) ? 'array' : typeof v} cannot travel over DMI`);
}

/** A FloatValue carries 32 bits: give back the shortest decimal that rounds to the same float (0.1, not 0.100000001). */
function shortestFloat32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const c = Number(x.toPrecision(p));
    if (Math.fround(c) === Math.fround(x)) return c;
  }
  return x;
}

export function decodeAny(a: PbAny): unknown {
  const name = a.type_url.slice(a.type_url.lastIndexOf('/') + 1);
  const t = types.get(name);
  if (t === undefined) throw new KubeEdgeError(DMI_VALUE_UNSUPPORTED, `configData value of type ${a.type_url} is not a protobuf wrapper`);
  const o = t.toObject(t.decode(a.value), { longs: Number, defaults: true }) as { value: unknown };
  return name === 'google.protobuf.FloatValue' && typeof o.value === 'number' ? shortestFloat32(o.value) : o.value;
}

export function encodeCustomized(data: Record<string, unknown> | undefined): PbCustomizedValue | null {
  if (data === undefined) return null;
  const out: PbCustomizedValue = { data: {} };
  for (const [k, v] of Object.entries(data)) out.data[k] = encodeAny(v);
  return out;
}

export function decodeCustomized(c: PbCustomizedValue | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c?.data ?? {})) out[k] = decodeAny(v);
  return out;
}
