import { createHash } from 'node:crypto';
import { K8S_SCHEMAS } from './openapi/k8s-schemas.generated.ts';
import { RESOURCES, groupVersions, type ResourceDef } from './resources.ts';
import { subresourceVerbs } from './resources-workloads.ts';
import type { JsonSchema } from './crd/schema.ts';

/**
 * OpenAPI v3 (per group/version, as kubectl explain and apply read it) and v2 (one JSON document) with real
 * schemas: the built-in kinds' from the generated openapi/k8s-schemas.generated.ts, CRD kinds' from their
 * openAPIV3Schema. PATCH operations list `fieldValidation`, which tells kubectl that this server validates
 * fields itself; their bodies deliberately do not list strategic merge, so `kubectl apply` computes its patch
 * from its compiled-in types, not from here.
 */
function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

const V3_PREFIX = '#/components/schemas/';
const OBJECT_META = 'io.k8s.api.v1.ObjectMeta';

/** The schema name of a CRD kind: devices.kubeedge.io/v1beta1 Device → io.kubeedge.devices.v1beta1.Device. */
function crdSchemaName(def: ResourceDef): string {
  return `${def.group.split('.').reverse().join('.')}.${def.version}.${def.kind}`;
}

/** The name under which `def`'s schema is published. */
export function schemaNameOf(def: ResourceDef): string {
  if (def.crd !== undefined) return crdSchemaName(def);
  return K8S_SCHEMAS.roots[`${def.group}/${def.version}/${def.kind}`] ?? crdSchemaName(def);
}

/** A built-in schema by name, for validation (`$ref` resolution). */
export function builtinSchema(ref: string): JsonSchema | undefined {
  const name = ref.startsWith(V3_PREFIX) ? ref.slice(V3_PREFIX.length) : ref;
  return K8S_SCHEMAS.schemas[name];
}

/** The root schema of a built-in kind, undefined for kinds without one. */
export function builtinRootSchema(def: ResourceDef): JsonSchema | undefined {
  const name = K8S_SCHEMAS.roots[`${def.group}/${def.version}/${def.kind}`];
  return name === undefined ? undefined : K8S_SCHEMAS.schemas[name];
}

function collectRefs(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) collectRefs(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith(V3_PREFIX)) {
        const name = x.slice(V3_PREFIX.length);
        if (!out.has(name)) {
          out.add(name);
          collectRefs(K8S_SCHEMAS.schemas[name], out);
        }
      } else collectRefs(x, out);
    }
  }
}

function gvk(def: ResourceDef): Record<string, string>[] {
  return [{ group: def.group, version: def.version, kind: def.kind }];
}

/** The published schema of a CRD version: its openAPIV3Schema with apiVersion, kind and metadata filled in. */
function crdSchema(def: ResourceDef): JsonSchema {
  const base: JsonSchema = structuredClone(def.crd?.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  const props: JsonSchema = { ...(base['properties'] ?? {}) };
  props['apiVersion'] = { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
  props['kind'] = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  props['metadata'] = { allOf: [{ $ref: `${V3_PREFIX}${OBJECT_META}` }], description: 'Standard object metadata.' };
  return { ...base, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk(def) };
}

function schemasFor(defs: readonly ResourceDef[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const refs = new Set<string>();
  for (const def of defs) {
    if (def.crd !== undefined) {
      out[crdSchemaName(def)] = crdSchema(def);
      refs.add(OBJECT_META);
      collectRefs(K8S_SCHEMAS.schemas[OBJECT_META], refs);
      continue;
    }
    const root = builtinRootSchema(def);
    if (root === undefined) {
      out[schemaNameOf(def)] = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-group-version-kind': gvk(def) };
      continue;
    }
    out[schemaNameOf(def)] = root;
    collectRefs(root, refs);
  }
  for (const name of refs) if (out[name] === undefined && K8S_SCHEMAS.schemas[name] !== undefined) out[name] = K8S_SCHEMAS.schemas[name];
  return out;
}

function patchPaths(defs: readonly ResourceDef[], group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const base = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    for (const sub of ['', ...r.subresources.filter((s) => subresourceVerbs(s).includes('patch')).map((s) => `/${s}`)]) {
      if (sub === '' && !(r.verbs ?? ['patch']).includes('patch')) continue;
      const ref = sub === '/scale' ? 'io.k8s.api.v1.Scale' : schemaNameOf(r);
      paths[`${base}${sub}`] = {
        patch: {
          operationId: `patch${r.kind}${sub === '' ? '' : sub.slice(1, 2).toUpperCase() + sub.slice(2)}`,
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': sub === '/scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { group, version, kind: r.kind },
          parameters: QUERY_PARAMS,
          requestBody: {
            content: {
              'application/json-patch+json': { schema: { type: 'object' } },
              'application/merge-patch+json': { schema: { type: 'object' } },
              'application/apply-patch+yaml': { schema: { type: 'object' } },
            },
            required: true,
          },
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `${V3_PREFIX}${ref}` } } } } },
        },
      };
    }
  }
  return paths;
}

/**
 * The kinds OpenAPI describes: not the virtual ones (access and token reviews), which are create-only and
 * answered without being stored, so they have no object to PATCH and no schema of their own here.
 */
function published(all: readonly ResourceDef[]): ResourceDef[] {
  return all.filter((r) => r.virtual !== true);
}

export function openApiGroupVersion(group: string, version: string, all: readonly ResourceDef[] = RESOURCES): Record<string, unknown> | undefined {
  const defs = published(all).filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const schemas = schemasFor(defs);
  if (defs.some((d) => d.subresources.includes('scale'))) {
    const scale = K8S_SCHEMAS.schemas['io.k8s.api.v1.Scale'];
    if (scale !== undefined) {
      schemas['io.k8s.api.v1.Scale'] = scale;
      const refs = new Set<string>();
      collectRefs(scale, refs);
      for (const n of refs) schemas[n] ??= K8S_SCHEMAS.schemas[n] ?? {};
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.10' },
    paths: patchPaths(defs, group, version),
    components: { schemas },
  };
}

const cache = new WeakMap<readonly ResourceDef[], { index: Record<string, unknown>; docs: Map<string, Record<string, unknown>> }>();

function cached(all: readonly ResourceDef[]): { index: Record<string, unknown>; docs: Map<string, Record<string, unknown>> } {
  let c = cache.get(all);
  if (c !== undefined) return c;
  const docs = new Map<string, Record<string, unknown>>();
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions(published(all))) {
    const doc = openApiGroupVersion(gv.group, gv.version, all);
    if (doc === undefined) continue;
    const p = gvPath(gv.group, gv.version);
    docs.set(p, doc);
    const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  c = { index: { paths }, docs };
  cache.set(all, c);
  return c;
}

/** `/openapi/v3`: the group/versions with a content hash each (the table array is a new one after every CRD change). */
export function openApiIndex(all: readonly ResourceDef[] = RESOURCES): Record<string, unknown> {
  return cached(all).index;
}

/** Resolves `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`. */
export function openApiForPath(rest: string, all: readonly ResourceDef[] = RESOURCES): Record<string, unknown> | undefined {
  return cached(all).docs.get(
    rest
      .split('/')
      .filter((s) => s !== '')
      .join('/'),
  );
}

function v2Refs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(v2Refs);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' ? x.replace(V3_PREFIX, '#/definitions/') : v2Refs(x);
  return out;
}

/** `/openapi/v2` as JSON: every served kind's schema under `definitions` (v2 has no per-group documents). */
const v2Cache = new WeakMap<readonly ResourceDef[], Record<string, unknown>>();

/** `/openapi/v2` as JSON: every served kind's schema under `definitions` (v2 has no per-group documents); built once per table. */
export function openApiV2(all: readonly ResourceDef[] = RESOURCES): Record<string, unknown> {
  let doc = v2Cache.get(all);
  if (doc === undefined) {
    doc = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.10' }, paths: {}, definitions: v2Refs(schemasFor(published(all))) };
    v2Cache.set(all, doc);
  }
  return doc;
}

function pbString(field: number, s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
}

/**
 * `/openapi/v2` in the protobuf form kubectl asks for: a document with no definitions (swagger and info only).
 * kubectl then validates nothing client-side and computes apply patches from its compiled-in types, as it
 * does against a real server for kinds it finds no schema for; an unknown kind gets the real "no matches for
 * kind" error instead of a failed OpenAPI download. Real validation happens server-side (fieldValidation).
 */
export function openApiV2Protobuf(): Buffer {
  return Buffer.concat([pbString(1, '2.0'), pbString(2, Buffer.concat([pbString(1, 'Kubernetes'), pbString(2, 'v1.32.10')]))]);
}
