import type { MsgAttr, MsgTwin, TwinDevice } from './types.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The entries of `v` that are objects, or undefined when `v` is not a map: the cloud's twins and attributes. */
function mapOfObjects<T>(v: unknown): Record<string, T> | undefined {
  if (!isMap(v)) return undefined;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => isMap(x))) as Record<string, T>;
}

/**
 * A device of a membership message as DeviceTwin can use it, or undefined when it names no device: the cloud's
 * JSON is checked here once (a device id that is a number, twins that are not objects) so the code behind works
 * on the types it declares. Found by `npm run fuzz -- --target edgehub`.
 */
export function cloudDevice(d: unknown): TwinDevice | undefined {
  if (!isMap(d)) return undefined;
  const id = typeof d['id'] === 'string' && d['id'] !== '' ? d['id'] : undefined;
  const name = typeof d['name'] === 'string' && d['name'] !== '' ? d['name'] : undefined;
  const key = id ?? name;
  if (key === undefined) return undefined;
  const out: TwinDevice = { id: key, name: name ?? '' };
  if (name === undefined) delete (out as { name?: string }).name;
  if (typeof d['description'] === 'string') out.description = d['description'];
  const attributes = mapOfObjects<MsgAttr>(d['attributes']);
  if (attributes !== undefined) out.attributes = attributes;
  const twin = mapOfObjects<MsgTwin>(d['twin']);
  if (twin !== undefined) out.twin = twin;
  return out;
}

/** A list of devices from the cloud, those that name no device left out; undefined when it is not a list. */
export function cloudDevices(v: unknown): TwinDevice[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  return v.map(cloudDevice).filter((d): d is TwinDevice => d !== undefined);
}
