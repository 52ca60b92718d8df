import { badRequest, ApiError } from './status.ts';
import type { KObj } from './store.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JObj = { [k: string]: Json };

function isObj(v: unknown): v is JObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): Json {
  if (!isObj(patch)) return clone(patch as Json);
  const out: JObj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function decodePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, path: string[]): { parent: JObj | Json[]; last: string } {
  let cur: Json = doc;
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)] as Json;
    else if (isObj(cur)) cur = cur[seg] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined || cur === null || typeof cur !== 'object') throw jsonPatchError(`path /${path.join('/')} does not exist`);
  }
  return { parent: cur as JObj | Json[], last: path[path.length - 1] ?? '' };
}

function jsonPatchError(msg: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
}

function getAt(doc: Json, path: string[]): Json {
  let cur: Json = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)] as Json;
    else if (isObj(cur)) cur = cur[seg] as Json;
    else throw jsonPatchError(`path /${path.join('/')} does not exist`);
    if (cur === undefined) throw jsonPatchError(`path /${path.join('/')} does not exist`);
  }
  return cur;
}

function arrayIndex(arr: Json[], last: string, forAdd: boolean): number {
  if (forAdd && last === '-') return arr.length;
  const i = Number(last);
  if (!/^\d+$/.test(last) || i > arr.length || (!forAdd && i === arr.length)) throw jsonPatchError(`array index ${last} out of range`);
  return i;
}

function addAt(doc: Json, path: string[], value: Json): Json {
  if (path.length === 0) return value;
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else parent[last] = value;
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else {
    if (!Object.hasOwn(parent, last)) throw jsonPatchError(`path /${path.join('/')} does not exist`);
    delete parent[last];
  }
  return doc;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: unknown, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let doc = clone(target as Json);
  for (const op of ops) {
    if (!isObj(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') throw badRequest('invalid json patch operation');
    const path = decodePointer(op['path']);
    switch (op['op']) {
      case 'add':
        doc = addAt(doc, path, clone(op['value'] ?? null));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        getAt(doc, path);
        doc = path.length === 0 ? clone(op['value'] ?? null) : addAt(removeAt(doc, path), path, clone(op['value'] ?? null));
        break;
      case 'move':
      case 'copy': {
        if (typeof op['from'] !== 'string') throw badRequest(`${op['op']} needs "from"`);
        const from = decodePointer(op['from']);
        const v = clone(getAt(doc, from));
        if (op['op'] === 'move') doc = removeAt(doc, from);
        doc = addAt(doc, path, v);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op['value'] ?? null)) throw jsonPatchError(`test failed at ${op['path']}`);
        break;
      default:
        throw badRequest(`unknown json patch op "${op['op']}"`);
    }
  }
  return doc;
}

/**
 * Merge keys of lists that strategic merge patch merges element-wise (from the k8s Go struct tags).
 * Several candidates: the first one present in the patch element wins (container ports vs service ports).
 */
export const MERGE_KEYS: Record<string, string[]> = {
  conditions: ['type'],
  addresses: ['type'],
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath', 'name'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port', 'name'],
  taints: ['key'],
  imagePullSecrets: ['name'],
  ownerReferences: ['uid'],
  hostAliases: ['ip'],
  topologySpreadConstraints: ['topologyKey'],
  podIPs: ['ip'],
  resourceClaims: ['name'],
};

/** Lists of scalars merged as sets. */
export const PRIMITIVE_MERGE = new Set(['finalizers']);

function mergeKeyFor(field: string, patchList: Json[]): string | undefined {
  const cands = MERGE_KEYS[field];
  if (cands === undefined) return undefined;
  const first = patchList.find(isObj);
  if (first === undefined) return undefined;
  return cands.find((k) => Object.hasOwn(first, k) && first[k] !== null && typeof first[k] !== 'object');
}

function mergeList(field: string, orig: Json[], patch: Json[]): Json[] {
  const key = mergeKeyFor(field, patch);
  if (key === undefined) {
    // A list element carrying only `$patch: delete` without a merge key still means "remove all": treat as replace.
    return patch.filter((e) => !(isObj(e) && e['$patch'] === 'delete')).map((e) => clone(e));
  }
  if (patch.some((e) => isObj(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isObj(e) && e['$patch'] === 'replace')).map(clone);
  }
  const out = orig.map(clone);
  for (const pe of patch) {
    if (!isObj(pe)) continue;
    const kv = pe[key];
    const idx = out.findIndex((oe) => isObj(oe) && oe[key] === kv);
    if (pe['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], pe);
    else out.push(strategicMerge({}, pe));
  }
  return out;
}

/**
 * A small strategic merge patch: maps merge recursively, lists with a known merge key merge by it, other
 * lists are replaced, `null` deletes, `$patch: delete|replace` on maps and list elements,
 * `$deleteFromPrimitiveList/<f>` for set-like lists; `$setElementOrder/<f>` and `$retainKeys` are ignored.
 */
export function strategicMerge(target: unknown, patch: unknown): Json {
  if (!isObj(patch)) return clone(patch as Json);
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch);
    delete rest['$patch'];
    return stripDirectives(rest);
  }
  if (patch['$patch'] === 'delete') return null;
  const out: JObj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[f];
      if (Array.isArray(cur) && Array.isArray(v)) out[f] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (k.startsWith('$')) continue; // $setElementOrder/..., $retainKeys, $patch handled above
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (isObj(v)) {
      if (v['$patch'] === 'delete') delete out[k];
      else out[k] = strategicMerge(cur, v);
    } else if (Array.isArray(v)) {
      if (PRIMITIVE_MERGE.has(k) && Array.isArray(cur)) {
        const set = [...cur];
        for (const x of v) if (!set.includes(x)) set.push(x);
        out[k] = set;
      } else if (Array.isArray(cur)) out[k] = mergeList(k, cur, v);
      else out[k] = mergeList(k, [], v);
    } else out[k] = v;
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: JObj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+json') return 'apply';
  return undefined;
}

export function applyPatch(type: PatchType, target: KObj, patch: unknown): KObj {
  const r = type === 'json' ? jsonPatch(target, patch) : type === 'merge' ? mergePatch(target, patch) : strategicMerge(target, patch);
  if (!isObj(r)) throw badRequest('patch result is not an object');
  return r as KObj;
}
