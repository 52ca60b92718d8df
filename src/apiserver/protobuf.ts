import { EXTRA_KINDS, EXTRA_SCHEMAS, type ProtoSchema } from './protobuf-kinds.ts';
import { WORKLOAD_SCHEMAS } from './protobuf-workloads.generated.ts';
import { unsupportedMediaType, badRequest } from './status.ts';

/**
 * kubectl's `create secret|configmap|namespace|serviceaccount` send Kubernetes protobuf (client-go does not
 * fall back to JSON on 415). This decodes just those kinds from the `k8s\0` runtime.Unknown envelope into
 * the JSON shape; anything else is answered 415.
 */
const SCHEMAS: Record<string, ProtoSchema> = {
  Unknown: { 1: ['typeMeta', { msg: 'TypeMeta' }], 2: ['raw', 'bytes'] },
  TypeMeta: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] },
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    11: ['labels', 'mapss'],
    12: ['annotations', 'mapss'],
    13: ['ownerReferences', { msgs: 'OwnerReference' }],
    14: ['finalizers', 'strings'],
  },
  Secret: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['data', 'mapsb'], 3: ['type', 'string'], 4: ['stringData', 'mapss'], 5: ['immutable', 'bool'] },
  ConfigMap: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['data', 'mapss'], 3: ['binaryData', 'mapsb'], 4: ['immutable', 'bool'] },
  Namespace: { 1: ['metadata', { msg: 'ObjectMeta' }], 2: ['spec', { msg: 'NamespaceSpec' }] },
  NamespaceSpec: { 1: ['finalizers', 'strings'] },
  ServiceAccount: { 1: ['metadata', { msg: 'ObjectMeta' }], 4: ['automountServiceAccountToken', 'bool'] },
  MapEntry: { 1: ['key', 'string'], 2: ['value', 'bytes'] },
  ...WORKLOAD_SCHEMAS,
  ...EXTRA_SCHEMAS,
};

class Reader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('truncated protobuf');
      const b = this.buf[this.pos++] ?? 0;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw badRequest('bad protobuf varint');
    }
  }
  bytes(): Buffer {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw badRequest('truncated protobuf');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`unsupported protobuf wire type ${wire}`);
  }
}

function decode(buf: Buffer, schemaName: string): Record<string, unknown> {
  const schema = SCHEMAS[schemaName];
  if (schema === undefined) throw badRequest(`no protobuf schema ${schemaName}`);
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (r.pos < buf.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    const spec = schema[field];
    if (spec === undefined) {
      r.skip(wire);
      continue;
    }
    const [name, kind] = spec;
    // gogo-protobuf writes every non-pointer field: a zero number or empty string is what JSON omits.
    if (kind === 'int' || kind === 'optint') {
      if (wire !== 0) {
        r.skip(wire);
        continue;
      }
      const n = signed(r.varint());
      if (n !== 0 || kind === 'optint') out[name] = n;
    } else if (kind === 'ints') {
      const list = (out[name] ??= []) as number[];
      if (wire === 0) list.push(signed(r.varint()));
      else if (wire === 2) {
        const packed = new Reader(r.bytes());
        while (packed.pos < packed.buf.length) list.push(signed(packed.varint()));
      } else r.skip(wire);
    } else if (kind === 'bool') out[name] = r.varint() !== 0;
    else if (kind === 'bool0') {
      if (r.varint() !== 0) out[name] = true;
    } else if (wire !== 2) r.skip(wire);
    else if (kind === 'quantity') {
      const q = String(decode(r.bytes(), 'Quantity')['string'] ?? '');
      if (q !== '') out[name] = q;
    } else if (kind === 'mapsq') {
      const e = decode(r.bytes(), 'MapEntry');
      const q = decode((e['value'] as Buffer | undefined) ?? Buffer.alloc(0), 'Quantity');
      ((out[name] ??= {}) as Record<string, string>)[String(e['key'] ?? '')] = String(q['string'] ?? '');
    } else if (kind === 'time') {
      const t = decode(r.bytes(), 'Time');
      // The zero time (what Go writes for an unset creationTimestamp) is what JSON shows as null: left out.
      if (typeof t['seconds'] === 'number' && t['seconds'] > 0) out[name] = new Date(t['seconds'] * 1000).toISOString().replace('.000Z', 'Z');
    } else if (kind === 'string') {
      const t = r.bytes().toString('utf8');
      if (t !== '') out[name] = t;
    } else if (kind === 'bytes') out[name] = Buffer.from(r.bytes());
    else if (kind === 'strings') ((out[name] ??= []) as string[]).push(r.bytes().toString('utf8'));
    else if (kind === 'mapss' || kind === 'mapsb') {
      const e = decode(r.bytes(), 'MapEntry');
      const v = (e['value'] as Buffer | undefined) ?? Buffer.alloc(0);
      ((out[name] ??= {}) as Record<string, string>)[String(e['key'] ?? '')] = kind === 'mapss' ? v.toString('utf8') : v.toString('base64');
    } else if (kind === 'intstr') {
      const v = decode(r.bytes(), 'IntOrString');
      out[name] = v['type'] === 1 ? String(v['strVal'] ?? '') : Number(v['intVal'] ?? 0);
    } else if ('msgs' in kind) ((out[name] ??= []) as unknown[]).push(decode(r.bytes(), kind.msgs));
    else {
      const m = decode(r.bytes(), kind.msg);
      if (Object.keys(m).length > 0) out[name] = m;
    }
  }
  return out;
}

/** A varint read as int64: values of 2^63 and more are negative numbers in two's complement. */
function signed(n: number): number {
  return n >= 2 ** 63 ? n - 2 ** 64 : n;
}

export function decodeK8sProtobuf(body: Buffer, contentType: string): Record<string, unknown> {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw unsupportedMediaType(contentType);
  const unknown = decode(body.subarray(4), 'Unknown');
  const tm = (unknown['typeMeta'] ?? {}) as { apiVersion?: string; kind?: string };
  const kind = tm.kind ?? '';
  const extra = EXTRA_KINDS[kind] !== undefined && EXTRA_KINDS[kind] === tm.apiVersion;
  if (!extra && (tm.apiVersion !== 'v1' || !['Secret', 'ConfigMap', 'Namespace', 'ServiceAccount'].includes(kind))) throw unsupportedMediaType(contentType);
  const obj = decode((unknown['raw'] as Buffer | undefined) ?? Buffer.alloc(0), kind);
  return { kind, apiVersion: tm.apiVersion, ...obj };
}
