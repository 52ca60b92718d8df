// Regenerates src/apiserver/protobuf-workloads.generated.ts: the protobuf field table of the workload kinds kubectl
// 1.32 sends as protobuf (`kubectl create deployment|job|cronjob|poddisruptionbudget`, and `create job --from`),
// with every message they contain. Field numbers and names come from k8s.io/api's generated.proto; which scalar
// fields are pointers (so a 0 or false is sent on purpose and kept) from its types.go.
// Run: node scripts/gen-protobuf-schemas.ts DIR, where DIR holds {core,apps,batch,policy}/v1/{generated.proto,types.go}
// of a kubernetes/api checkout.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: node scripts/gen-protobuf-schemas.ts DIR');
const OUT = join(import.meta.dirname, '..', 'src', 'apiserver', 'protobuf-workloads.generated.ts');
const PACKAGES = ['core/v1', 'apps/v1', 'batch/v1', 'policy/v1'];
const ROOTS = ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob', 'PodDisruptionBudget', 'Eviction', 'Binding'];
/** Message types the decoder knows by a kind of their own, or that protobuf.ts defines by hand. */
const EXTERNAL: Record<string, unknown> = {
  '.k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta': { msg: 'ObjectMeta' },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector': { msg: 'LabelSelector' },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'time',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'time',
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intstr',
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions': { msg: 'DeleteOptions' },
};

type Field = { name: string; num: number; label: string; type: string };
const messages = new Map<string, Field[]>();
const pointers = new Set<string>(); // `Struct.num` of pointer scalars

for (const pkg of PACKAGES) {
  const proto = readFileSync(join(dir, pkg, 'generated.proto'), 'utf8');
  let current: string | undefined;
  let depth = 0;
  for (const raw of proto.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const m = /^message (\w+) \{/.exec(line);
    if (m !== null && depth === 0) {
      current = m[1] ?? '';
      depth = 1;
      if (messages.has(current)) throw new Error(`message ${current} defined twice`);
      messages.set(current, []);
      continue;
    }
    if (line.includes('{')) depth++;
    if (line.includes('}')) {
      depth--;
      if (depth === 0) current = undefined;
      continue;
    }
    if (current === undefined || depth !== 1) continue;
    const f = /^(optional|repeated) (\S+) (\w+) = (\d+);/.exec(line) ?? /^(map)<(.+?)> (\w+) = (\d+);/.exec(line);
    if (f === null) continue;
    messages.get(current)?.push({ label: f[1] ?? '', type: (f[2] ?? '').replace(/\s/g, ''), name: f[3] ?? '', num: Number(f[4]) });
  }
  const types = readFileSync(join(dir, pkg, 'types.go'), 'utf8');
  let struct: string | undefined;
  for (const line of types.split('\n')) {
    const s = /^type (\w+) struct \{/.exec(line);
    if (s !== null) struct = s[1];
    const p = /^\s+\w+\s+\*(?:int32|int64|bool)\s+`.*protobuf:"varint,(\d+),/.exec(line);
    if (p !== null && struct !== undefined) pointers.add(`${struct}.${p[1]}`);
  }
}

function kindOf(msg: string, f: Field): unknown {
  const ptr = pointers.has(`${msg}.${f.num}`);
  if (f.label === 'map') {
    const value = f.type.split(',')[1] ?? '';
    if (value === 'string') return 'mapss';
    if (value === 'bytes') return 'mapsb';
    if (value === '.k8s.io.apimachinery.pkg.api.resource.Quantity') return 'mapsq';
    return undefined;
  }
  const repeated = f.label === 'repeated';
  // Messages of k8s.io/api's own packages are referred to by their full name across packages.
  if (f.type.startsWith('.k8s.io.api.')) f.type = f.type.slice(f.type.lastIndexOf('.') + 1);
  switch (f.type) {
    case 'string':
      return repeated ? 'strings' : 'string';
    case 'bytes':
      return repeated ? undefined : 'bytes';
    case 'int32':
    case 'int64':
      return repeated ? 'ints' : ptr ? 'optint' : 'int';
    case 'bool':
      return repeated ? undefined : ptr ? 'bool' : 'bool0';
    case 'double':
      return undefined;
    default:
      break;
  }
  const ext = EXTERNAL[f.type];
  if (ext !== undefined) return repeated && typeof ext === 'object' ? { msgs: (ext as { msg: string }).msg } : repeated ? undefined : ext;
  if (f.type.startsWith('.')) return undefined; // another package's message we do not decode (Condition, Duration, RawExtension)
  if (!messages.has(f.type)) return undefined; // a package this table does not read (newer alpha fields)
  queue.push(f.type);
  return repeated ? { msgs: f.type } : { msg: f.type };
}

const out: Record<string, Record<number, [string, unknown]>> = {};
const queue = [...ROOTS];
while (queue.length > 0) {
  const name = queue.shift() ?? '';
  if (out[name] !== undefined) continue;
  out[name] = {};
  for (const f of messages.get(name) ?? []) {
    const kind = kindOf(name, f);
    if (kind !== undefined) (out[name] as Record<number, [string, unknown]>)[f.num] = [f.name, kind];
  }
}
const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(
  OUT,
  `// Generated by scripts/gen-protobuf-schemas.ts from k8s.io/api's generated.proto and types.go; do not edit.\n` +
    `import type { ProtoSchema } from './protobuf-kinds.ts';\n\n` +
    `export const WORKLOAD_SCHEMAS: Record<string, ProtoSchema> = ${JSON.stringify(sorted, null, 2)};\n`,
);
console.log(`wrote ${Object.keys(sorted).length} messages`);
