import { MERGE_KEYS, PRIMITIVE_MERGE } from '../patch.ts';
import type { KObj } from '../store.ts';
import { isObj } from '../kobj.ts';

/**
 * Field sets in the shape of Kubernetes' structured-merge-diff: a set of paths, each a list of path
 * elements as FieldsV1 spells them (`f:name` a field, `k:{"name":"c"}` a list item by its keys, `v:"x"` a
 * member of a set-like list). A flat map path → value fingerprint lets updates see which fields changed;
 * list items (and set members) are nodes whose fingerprint never changes, so they count only as added or
 * removed.
 *
 * The list types come from the strategic-merge key table in patch.ts (the Go struct tags of the served
 * kinds): a list with merge keys is an associative list (`x-kubernetes-list-type: map`), finalizers a set,
 * every other list atomic (replaced as a whole, owned as one field); label selectors and nodeSelector are
 * atomic maps, as their `mapType`/`structType` tags say.
 */

/** path (elements joined by '\n', which JSON-encoded keys never contain) → fingerprint of the value. */
export type FieldSet = Map<string, string>;

const NODE = '\u0001node';
export const SEP = '\n';

/** Metadata that no manager owns: identity and server-maintained fields. */
const UNOWNED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

const ATOMIC_MAPS = new Set(['selector', 'nodeSelector']);

/** Key fields with a server default, as their values appear in the item's key. */
const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

export type ListHint = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

/**
 * List types declared by a schema (a CRD's x-kubernetes-list-type / x-kubernetes-list-map-keys), by the
 * list's field path without indices (`spec.ports`, `spec.template.spec.containers`); they win over the table.
 */
export type ListTypes = Record<string, { type: 'atomic' | 'set' | 'map'; keys?: string[] }>;

/** The list type of field `name` with ancestors `anc` (field names from the root). */
export function listHint(anc: string[], name: string, items: unknown[], declared?: ListTypes[string]): ListHint {
  if (declared !== undefined) {
    if (declared.type === 'map' && declared.keys !== undefined && declared.keys.length > 0) return { type: 'map', keys: declared.keys };
    if (declared.type === 'set') return { type: 'set' };
    if (declared.type === 'atomic') return { type: 'atomic' };
  }
  if (PRIMITIVE_MERGE.has(name)) return { type: 'set' };
  let keys: string[] | undefined;
  if (name === 'ports') keys = anc.some((a) => a.endsWith('ontainers')) ? ['containerPort', 'protocol'] : ['port', 'protocol'];
  else if (name === 'volumeMounts') keys = ['mountPath'];
  else {
    const k = MERGE_KEYS[name]?.[0];
    if (k !== undefined) keys = [k];
  }
  if (keys === undefined) return { type: 'atomic' };
  const primary = keys[0] ?? '';
  if (!items.every((e) => isObj(e) && e[primary] !== undefined && e[primary] !== null && typeof e[primary] !== 'object')) return { type: 'atomic' };
  return { type: 'map', keys };
}

/** `k:{...}` of a list item: its key fields (defaulted when absent), sorted by name. */
export function itemKey(item: KObj, keys: string[]): string {
  const k: KObj = {};
  for (const name of [...keys].sort()) {
    const v = item[name] ?? KEY_DEFAULTS[name];
    if (v !== undefined) k[name] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

export function isAtomicMap(name: string): boolean {
  return ATOMIC_MAPS.has(name);
}

/** Which part of an object a write manages: everything, all but status (a status subresource exists), only status. */
export type Scope = 'all' | 'main' | 'status';

/** The field set of an object (or of an applied configuration). */
export function fieldSetOf(o: KObj, scope: Scope, types?: ListTypes): FieldSet {
  const out: FieldSet = new Map();
  for (const [k, v] of Object.entries(o)) {
    if (k === 'apiVersion' || k === 'kind' || v === null || v === undefined) continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObj(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (UNOWNED_METADATA.has(mk) || mv === null || mv === undefined) continue;
        visit(out, mv, `f:metadata${SEP}f:${mk}`, false, mk, `metadata.${mk}`, types);
      }
      continue;
    }
    visit(out, v, `f:${k}`, false, k, k, types);
  }
  return out;
}

/** `inContainer`: below a containers/initContainers/ephemeralContainers item (where ports are keyed by containerPort). */
function visit(out: FieldSet, v: unknown, path: string, inContainer: boolean, name: string, fpath: string, types: ListTypes | undefined): void {
  if (isObj(v) && !ATOMIC_MAPS.has(name)) {
    const entries = Object.entries(v);
    if (entries.length > 0) {
      for (const [k, x] of entries) if (x !== null && x !== undefined) visit(out, x, `${path}${SEP}f:${k}`, inContainer, k, `${fpath}.${k}`, types);
      return;
    }
  }
  if (Array.isArray(v) && v.length > 0) {
    const hint = listHint(inContainer ? ['containers'] : [], name, v, types?.[fpath]);
    if (hint.type === 'map') {
      const below = inContainer || name.endsWith('ontainers');
      for (const item of v as KObj[]) {
        const ip = `${path}${SEP}${itemKey(item, hint.keys)}`;
        out.set(ip, NODE);
        for (const [k, x] of Object.entries(item)) if (x !== null && x !== undefined) visit(out, x, `${ip}${SEP}f:${k}`, below, k, `${fpath}.${k}`, types);
      }
      return;
    }
    if (hint.type === 'set') {
      for (const x of v) out.set(`${path}${SEP}v:${JSON.stringify(x)}`, NODE);
      return;
    }
  }
  out.set(path, JSON.stringify(v));
}

export function splitPath(p: string): string[] {
  return p.split(SEP);
}

export function isUnder(p: string, ancestor: string): boolean {
  return p.startsWith(`${ancestor}${SEP}`);
}

/** FieldsV1 JSON of a set of paths: each member is `{}`, or carries `.: {}` when it also has members below. */
export function toFieldsV1(paths: Iterable<string>): KObj {
  const root: KObj = {};
  for (const p of paths) {
    let node = root;
    for (const el of splitPath(p)) {
      node[el] ??= {};
      node = node[el];
    }
    node['\u0000member'] = true;
  }
  return finish(root);
}

function finish(node: KObj): KObj {
  const member = node['\u0000member'] === true;
  const children = Object.keys(node)
    .filter((k) => k !== '\u0000member')
    .sort();
  const out: KObj = {};
  if (member && children.length > 0) out['.'] = {};
  for (const k of children) out[k] = finish(node[k]);
  return out;
}

/** The paths of a FieldsV1 object. */
export function fromFieldsV1(f: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: string[]): void => {
    if (!isObj(node)) return;
    const keys = Object.keys(node);
    if (path.length > 0 && (keys.length === 0 || keys.includes('.'))) out.add(path.join(SEP));
    for (const k of keys) if (k !== '.') walk(node[k], [...path, k]);
  };
  walk(f, []);
  return out;
}

/** A path as kube-apiserver prints it in conflicts: `.spec.containers[name="web"].image`. */
export function pathString(p: string): string {
  let s = '';
  for (const el of splitPath(p)) {
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const k = JSON.parse(el.slice(2)) as KObj;
      s += `[${Object.entries(k)
        .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
    else s += `.${el}`;
  }
  return s;
}
