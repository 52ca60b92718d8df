// Rebuilds manifests/crds/*.yaml and src/kube/kubeedge-crds.generated.ts from a directory of KubeEdge's
// generated CRD manifests (build/crds of a KubeEdge checkout): the structure (group, names, versions, schema types,
// enums, ranges, required lists, subresources) is kept, upstream prose descriptions are dropped and replaced by our
// own short ones, and a few printer columns are added. Run: node scripts/gen-kubeedge-crds.ts <dir-with-yaml-files>
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

const src = process.argv[2];
if (src === undefined) throw new Error('usage: gen-kubeedge-crds.ts <dir>');
const root = join(import.meta.dirname, '..');

type J = Record<string, unknown>;

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (typeof v !== 'object' || v === null) return v;
  const out: J = {};
  for (const [k, x] of Object.entries(v as J)) {
    if (k === 'description' && typeof x === 'string') continue;
    out[k] = strip(x);
  }
  return out;
}

const DESCRIBE: Record<string, Record<string, string>> = {
  Device: {
    '': 'Device is one physical or virtual device attached to an edge node, an instance of a DeviceModel.',
    spec: 'The desired state of the device: its model, the node it is bound to, how to reach it and which properties to collect.',
    'spec.deviceModelRef': 'The DeviceModel this device is an instance of.',
    'spec.nodeName': 'The edge node the device is attached to.',
    'spec.properties': 'The properties the mapper reads or writes on the device; names are unique.',
    'spec.protocol': 'How the mapper talks to the device (protocol name and its settings).',
    status: 'The state reported from the edge: twins (reported values) and the last online time.',
  },
  DeviceModel: {
    '': 'DeviceModel is a template of devices of one kind: the properties they have and the protocol they speak.',
    spec: 'The properties of devices of this model and the protocol they speak.',
  },
  ObjectSync: {
    '': 'ObjectSync records the latest resourceVersion of one namespaced object that reached one edge node.',
    spec: 'Which object this record is about.',
    status: 'The resourceVersion the edge node acknowledged.',
  },
  ClusterObjectSync: {
    '': 'ClusterObjectSync records the latest resourceVersion of one cluster-scoped object that reached one edge node.',
    spec: 'Which object this record is about.',
    status: 'The resourceVersion the edge node acknowledged.',
  },
  Rule: { '': 'Rule routes messages from a source RuleEndpoint to a target RuleEndpoint.', spec: 'Source and target endpoints and their resources.' },
  RuleEndpoint: { '': 'RuleEndpoint is one end of a message route (rest, eventbus or servicebus).', spec: 'The endpoint type and its properties.' },
  NodeUpgradeJob: { '': 'NodeUpgradeJob upgrades the KubeEdge version of selected edge nodes.', spec: 'Target version, nodes and rollout settings.' },
  ImagePrePullJob: { '': 'ImagePrePullJob pulls container images onto selected edge nodes ahead of use.', spec: 'The images, the nodes and how to pull.' },
  EdgeApplication: {
    '': 'EdgeApplication deploys workload templates to node groups with per-group overrides.',
    spec: 'Workload templates and their per-group overrides.',
  },
  NodeGroup: { '': 'NodeGroup is a set of edge nodes chosen by name or label.', spec: 'Node names and label selector of the members.' },
  ServiceAccountAccess: {
    '': 'ServiceAccountAccess lists what one service account may access, for edge-side authorization.',
    spec: 'The service account and its rules.',
  },
};

/**
 * Fields later KubeEdge versions added, merged into the v1.15 schemas: v1beta1 Device `status.state` and
 * `status.lastOnlineTime` (KubeEdge v1.17+), which kubeedge-ts's devicecontroller writes from the edge's state reports.
 */
const ADD: Record<string, Record<string, Record<string, J>>> = {
  Device: {
    v1beta1: {
      'status.state': { type: 'string', description: 'The device state the edge last reported (online, offline, ok, unknown, disconnected).' },
      'status.lastOnlineTime': { type: 'string', description: 'When the edge last saw the device online.' },
    },
  },
};

/** Own printer columns (KubeEdge's manifests have none for these kinds). The server shows Age by itself only for a CRD without columns, so each list ends with it. */
const COLUMNS: Record<string, J[]> = {
  Device: [
    { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
    { name: 'Model', type: 'string', jsonPath: '.spec.deviceModelRef.name' },
    { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol.protocolName' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  ObjectSync: [
    { name: 'Kind', type: 'string', jsonPath: '.spec.objectKind' },
    { name: 'Object', type: 'string', jsonPath: '.spec.objectName' },
    { name: 'Acked RV', type: 'string', jsonPath: '.status.objectResourceVersion' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

function at(schema: J, path: string): J | undefined {
  let s: J | undefined = schema;
  for (const p of path === '' ? [] : path.split('.')) s = (s?.['properties'] as J | undefined)?.[p] as J | undefined;
  return s;
}

const crds: J[] = [];
await mkdir(join(root, 'manifests', 'crds'), { recursive: true });
for (const file of (await readdir(src)).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of parseAllDocuments(await readFile(join(src, file), 'utf8'))) {
    const crd = doc.toJSON() as J | null;
    if (crd === null) continue;
    const spec = crd['spec'] as J;
    const kind = String((spec['names'] as J)['kind']);
    const out: J = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: (crd['metadata'] as J)['name'] } };
    const s = strip(spec) as J;
    for (const v of s['versions'] as J[]) {
      const schema = (v['schema'] as J | undefined)?.['openAPIV3Schema'] as J | undefined;
      if (schema !== undefined) {
        for (const [path, d] of Object.entries(DESCRIBE[kind] ?? {})) {
          const node = at(schema, path);
          if (node !== undefined) Object.assign(node, { description: d, ...node });
        }
      }
      for (const [path, field] of Object.entries(ADD[kind]?.[String(v['name'])] ?? {})) {
        const dot = path.lastIndexOf('.');
        const parent = schema === undefined ? undefined : at(schema, path.slice(0, dot));
        if (parent !== undefined) parent['properties'] = { ...(parent['properties'] as J | undefined), [path.slice(dot + 1)]: field };
      }
      if (COLUMNS[kind] !== undefined && v['storage'] === true) v['additionalPrinterColumns'] = COLUMNS[kind];
    }
    out['spec'] = s;
    crds.push(out);
    await writeFile(
      join(root, 'manifests', 'crds', file),
      `# KubeEdge ${kind} (reproduced for kubeedge-ts; see scripts/gen-kubeedge-crds.ts)\n${stringify(out)}`,
    );
  }
}
const data = JSON.stringify(crds);
await writeFile(
  join(root, 'src', 'kube', 'kubeedge-crds.generated.ts'),
  `// Generated by scripts/gen-kubeedge-crds.ts (the same content as manifests/crds/*.yaml); do not edit.\n` +
    `export const KUBEEDGE_CRDS: Record<string, unknown>[] = JSON.parse(${JSON.stringify(data)});\n`,
);
console.log(`wrote ${crds.length} CRDs, ${data.length} bytes`);
