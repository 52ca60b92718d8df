// Regenerates src/apiserver/openapi/k8s-schemas.generated.ts: OpenAPI v3 component schemas of the built-in kinds the
// embedded API server serves, taken from the models @kubernetes/client-node (a runtime dependency already) generates
// from the official Kubernetes OpenAPI spec: property types from each model's attributeTypeMap, descriptions and
// required-ness from its .d.ts. Run: node scripts/gen-openapi-schemas.ts
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MODELS = join(import.meta.dirname, '..', 'node_modules', '@kubernetes', 'client-node', 'dist', 'gen', 'models');
const OUT = join(import.meta.dirname, '..', 'src', 'apiserver', 'openapi', 'k8s-schemas.generated.ts');

/** Root kinds: model class → group/version/kind. */
const ROOTS: [string, string, string, string][] = [
  ['V1Namespace', '', 'v1', 'Namespace'],
  ['V1Node', '', 'v1', 'Node'],
  ['V1Pod', '', 'v1', 'Pod'],
  ['V1ConfigMap', '', 'v1', 'ConfigMap'],
  ['V1Secret', '', 'v1', 'Secret'],
  ['V1Service', '', 'v1', 'Service'],
  ['V1Endpoints', '', 'v1', 'Endpoints'],
  ['CoreV1Event', '', 'v1', 'Event'],
  ['V1ServiceAccount', '', 'v1', 'ServiceAccount'],
  ['V1Lease', 'coordination.k8s.io', 'v1', 'Lease'],
  ['EventsV1Event', 'events.k8s.io', 'v1', 'Event'],
  ['V1CustomResourceDefinition', 'apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
  ['V1Role', 'rbac.authorization.k8s.io', 'v1', 'Role'],
  ['V1ClusterRole', 'rbac.authorization.k8s.io', 'v1', 'ClusterRole'],
  ['V1RoleBinding', 'rbac.authorization.k8s.io', 'v1', 'RoleBinding'],
  ['V1ClusterRoleBinding', 'rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding'],
  ['V1SelfSubjectAccessReview', 'authorization.k8s.io', 'v1', 'SelfSubjectAccessReview'],
  ['V1SubjectAccessReview', 'authorization.k8s.io', 'v1', 'SubjectAccessReview'],
  ['V1LocalSubjectAccessReview', 'authorization.k8s.io', 'v1', 'LocalSubjectAccessReview'],
  ['V1SelfSubjectRulesReview', 'authorization.k8s.io', 'v1', 'SelfSubjectRulesReview'],
  ['V1TokenReview', 'authentication.k8s.io', 'v1', 'TokenReview'],
  ['AuthenticationV1TokenRequest', 'authentication.k8s.io', 'v1', 'TokenRequest'],
  ['V1Scale', 'autoscaling', 'v1', 'Scale'],
  ['V1Deployment', 'apps', 'v1', 'Deployment'],
  ['V1ReplicaSet', 'apps', 'v1', 'ReplicaSet'],
  ['V1DaemonSet', 'apps', 'v1', 'DaemonSet'],
  ['V1StatefulSet', 'apps', 'v1', 'StatefulSet'],
  ['V1ControllerRevision', 'apps', 'v1', 'ControllerRevision'],
  ['V1Job', 'batch', 'v1', 'Job'],
  ['V1CronJob', 'batch', 'v1', 'CronJob'],
  ['V1EndpointSlice', 'discovery.k8s.io', 'v1', 'EndpointSlice'],
  ['V1PodDisruptionBudget', 'policy', 'v1', 'PodDisruptionBudget'],
  ['V1Eviction', 'policy', 'v1', 'Eviction'],
  ['V1Binding', '', 'v1', 'Binding'],
];

type Schema = Record<string, unknown>;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** V1Pod → io.k8s.api.v1.Pod, EventsV1Event → io.k8s.api.events.v1.Event: the last segment is what explain prints. */
function defName(cls: string): string {
  const m = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z].*)$/.exec(cls);
  if (m === null) return `io.k8s.api.${cls}`;
  const [, group, version, name] = m;
  return `io.k8s.api.${group === undefined ? '' : `${group.toLowerCase()}.`}${version?.toLowerCase()}.${name}`;
}

function unescapeTs(s: string): string {
  return s.replace(/\\(['"\\])/g, '$1');
}

/** Descriptions and required-ness from a model's .d.ts. */
function parseDts(text: string): { description?: string; props: Map<string, { description?: string; required: boolean }> } {
  const props = new Map<string, { description?: string; required: boolean }>();
  const cls = /\/\*\*\n((?:\s*\*.*\n)*?)\s*\*\/\nexport declare class/.exec(text);
  const clean = (block: string) =>
    unescapeTs(
      block
        .split('\n')
        .map((l) => l.replace(/^\s*\*\s?/, ''))
        .join('\n')
        .trim(),
    );
  const re = /(?:\/\*\*\n((?:\s*\*.*\n)*?)\s*\*\/\n)?\s*'([^']+)'(\?)?: [^;]+;/g;
  const body = text.slice(text.indexOf('export declare class'));
  for (const m of body.matchAll(re)) {
    const d = m[1] === undefined ? undefined : clean(m[1]);
    props.set(m[2] ?? '', { ...(d === undefined || d === '' ? {} : { description: d }), required: m[3] === undefined });
  }
  return { ...(cls?.[1] === undefined ? {} : { description: clean(cls[1]) }), props };
}

const schemas: Record<string, Schema> = {};
const queue: string[] = [];

function typeSchema(t: string, format: string): Schema {
  if (t.startsWith('Array<')) return { type: 'array', items: typeSchema(t.slice(6, -1), '') };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map !== null) return { type: 'object', additionalProperties: typeSchema(map[1] ?? 'any', '') };
  switch (t) {
    case 'string':
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'number':
      return format === 'int32' || format === 'int64' ? { type: 'integer', format } : { type: 'number', format: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
    case 'V1MicroTime':
      return { type: 'string', format: 'date-time' };
    case 'IntOrString':
      schemas[INT_OR_STRING] = { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
      return { $ref: `#/components/schemas/${INT_OR_STRING}` };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      queue.push(t);
      return { $ref: `#/components/schemas/${defName(t)}` };
  }
}

async function add(cls: string): Promise<void> {
  const name = defName(cls);
  if (schemas[name] !== undefined) return;
  schemas[name] = {};
  const mod = (await import(join(MODELS, `${cls}.js`))) as Record<string, { attributeTypeMap: { baseName: string; type: string; format: string }[] }>;
  const dts = parseDts(await readFile(join(MODELS, `${cls}.d.ts`), 'utf8'));
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const a of mod[cls]?.attributeTypeMap ?? []) {
    const info = dts.props.get(a.baseName);
    let s = typeSchema(a.type, a.format);
    if (s['$ref'] !== undefined) s = { allOf: [s] };
    if (info?.description !== undefined) s = { description: info.description, ...s };
    if (a.baseName === 'apiVersion' || a.baseName === 'kind') s['type'] = 'string';
    properties[a.baseName] = s;
    if (info?.required === true) required.push(a.baseName);
  }
  schemas[name] = {
    ...(dts.description === undefined ? {} : { description: dts.description }),
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    properties,
  };
}

for (const [cls, group, version, kind] of ROOTS) {
  await add(cls);
  (schemas[defName(cls)] as Schema)['x-kubernetes-group-version-kind'] = [{ group, version, kind }];
}
while (queue.length > 0) await add(queue.shift() ?? '');
// ObjectMeta of every kind: kept as is; JSONSchemaProps is recursive and refers to itself, which is fine for $ref.
const roots = Object.fromEntries(ROOTS.map(([cls, group, version, kind]) => [`${group}/${version}/${kind}`, defName(cls)]));
const data = JSON.stringify({ roots, schemas });
await writeFile(
  OUT,
  `// Generated by scripts/gen-openapi-schemas.ts from @kubernetes/client-node's models; do not edit.\n` +
    `export const K8S_SCHEMAS: { roots: Record<string, string>; schemas: Record<string, Record<string, unknown>> } = JSON.parse(${JSON.stringify(data)});\n`,
);
console.log(`wrote ${Object.keys(schemas).length} schemas, ${data.length} bytes`);
