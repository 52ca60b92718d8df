import type { ListTypes } from '../apply/fieldset.ts';
import { isObj } from '../kobj.ts';

/**
 * Structural OpenAPI v3 schemas as CustomResourceDefinitions use them (and the built-in kinds' schemas, whose
 * `$ref`s a resolver follows): defaulting, pruning of unknown fields and validation, each one walk over the object.
 * Pure functions; paths are printed as Kubernetes prints field paths (`spec.ports[0].port`).
 */

// biome-ignore lint/suspicious/noExplicitAny: schemas are arbitrary JSON
export type JsonSchema = Record<string, any>;

/** One field error, as a Status cause. */
export type Cause = { reason: string; message: string; field: string };

export type Resolver = (ref: string) => JsonSchema | undefined;

const noRefs: Resolver = () => undefined;

/** The schema behind `$ref` or `allOf: [{$ref}]` (how the built-in schemas point at each other). */
export function deref(s: JsonSchema | undefined, resolve: Resolver): JsonSchema | undefined {
  let cur = s;
  for (let i = 0; i < 8 && cur !== undefined; i++) {
    const ref = cur['$ref'] ?? (Array.isArray(cur['allOf']) && cur['allOf'].length === 1 ? cur['allOf'][0]?.['$ref'] : undefined);
    if (typeof ref !== 'string') return cur;
    cur = resolve(ref);
  }
  return cur;
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function preserves(s: JsonSchema): boolean {
  return s['x-kubernetes-preserve-unknown-fields'] === true;
}

/**
 * Removes the fields the schema does not know (below `x-kubernetes-preserve-unknown-fields` nothing is removed)
 * and returns their paths, for fieldValidation Strict (error) or Warn (warning). At the root, apiVersion, kind and
 * metadata are always known. Mutates `v`.
 */
export function prune(schema: JsonSchema, v: unknown, resolve: Resolver = noRefs, path = '', removeUnknown = true): string[] {
  const out: string[] = [];
  walkPrune(schema, v, resolve, path, out, path === '', removeUnknown);
  return out;
}

function walkPrune(schema: JsonSchema | undefined, v: unknown, resolve: Resolver, path: string, out: string[], root: boolean, remove: boolean): void {
  const s = deref(schema, resolve);
  if (s === undefined) return;
  if (Array.isArray(v)) {
    const items = s['items'];
    if (isObj(items)) for (const [i, x] of v.entries()) walkPrune(items, x, resolve, `${path}[${i}]`, out, false, remove);
    return;
  }
  if (!isObj(v)) return;
  const props = isObj(s['properties']) ? (s['properties'] as Record<string, JsonSchema>) : undefined;
  const addl = s['additionalProperties'];
  const embedded = root || s['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(v)) {
    if (embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const p = props?.[key];
    if (p !== undefined) walkPrune(p, v[key], resolve, child(path, key), out, false, remove);
    else if (isObj(addl)) walkPrune(addl, v[key], resolve, child(path, key), out, false, remove);
    else if (addl === true || preserves(s)) continue;
    else {
      out.push(child(path, key));
      if (remove) delete v[key];
    }
  }
}

/** Fills in `default`s of missing properties (recursively, arrays included). Mutates `v`. */
export function applyDefaults(schema: JsonSchema, v: unknown, resolve: Resolver = noRefs): void {
  const s = deref(schema, resolve);
  if (s === undefined) return;
  if (Array.isArray(v)) {
    if (isObj(s['items'])) for (const x of v) applyDefaults(s['items'], x, resolve);
    return;
  }
  if (!isObj(v)) return;
  const props = isObj(s['properties']) ? (s['properties'] as Record<string, JsonSchema>) : {};
  for (const [key, p] of Object.entries(props)) {
    if (v[key] === undefined && p['default'] !== undefined) v[key] = structuredClone(p['default']);
    if (v[key] !== undefined) applyDefaults(p, v[key], resolve);
  }
  if (isObj(s['additionalProperties'])) for (const key of Object.keys(v)) if (!(key in props)) applyDefaults(s['additionalProperties'], v[key], resolve);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

/** Validates `v` against the schema; returns every error found (not just the first). */
export function validate(schema: JsonSchema, v: unknown, resolve: Resolver = noRefs, path = ''): Cause[] {
  const out: Cause[] = [];
  walkValidate(schema, v, resolve, path, out, path === '');
  return out;
}

function invalid(out: Cause[], field: string, v: unknown, why: string): void {
  out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(v)}: ${why}`, field });
}

function walkValidate(schema: JsonSchema | undefined, v: unknown, resolve: Resolver, path: string, out: Cause[], root: boolean): void {
  const s = deref(schema, resolve);
  if (s === undefined) return;
  const field = path;
  if (v === null) {
    if (s['nullable'] !== true && s['type'] !== undefined) invalid(out, field, 'null', `${field || '<root>'} in body must be of type ${s['type']}: "null"`);
    return;
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) {
      invalid(out, field, typeName(v), `${field} in body must be of type integer,string: "${typeName(v)}"`);
      return;
    }
  } else if (typeof s['type'] === 'string' && !typeOk(s['type'], v)) {
    invalid(out, field, typeName(v), `${field || '<root>'} in body must be of type ${s['type']}: "${typeName(v)}"`);
    return;
  }
  if (Array.isArray(s['enum']) && !s['enum'].some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${show(v)}: supported values: ${s['enum'].map((e: unknown) => show(e)).join(', ')}`,
      field,
    });
  }
  if (typeof v === 'number') {
    const min = s['minimum'];
    const max = s['maximum'];
    if (typeof min === 'number' && (s['exclusiveMinimum'] === true ? v <= min : v < min)) {
      invalid(out, field, v, `${field} in body should be greater than ${s['exclusiveMinimum'] === true ? '' : 'or equal to '}${min}`);
    }
    if (typeof max === 'number' && (s['exclusiveMaximum'] === true ? v >= max : v > max)) {
      invalid(out, field, v, `${field} in body should be less than ${s['exclusiveMaximum'] === true ? '' : 'or equal to '}${max}`);
    }
    if (typeof s['multipleOf'] === 'number' && v % s['multipleOf'] !== 0) invalid(out, field, v, `${field} in body should be a multiple of ${s['multipleOf']}`);
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof s['minLength'] === 'number' && len < s['minLength']) invalid(out, field, v, `${field} in body should be at least ${s['minLength']} chars long`);
    if (typeof s['maxLength'] === 'number' && len > s['maxLength']) {
      out.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${s['maxLength']} bytes`, field });
    }
    if (typeof s['pattern'] === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s['pattern'], 'u');
      } catch {
        re = undefined;
      }
      if (re !== undefined && !re.test(v)) invalid(out, field, v, `${field} in body should match '${s['pattern']}'`);
    }
  }
  if (Array.isArray(v)) {
    if (typeof s['minItems'] === 'number' && v.length < s['minItems'])
      invalid(out, field, v.length, `${field} in body should have at least ${s['minItems']} items`);
    if (typeof s['maxItems'] === 'number' && v.length > s['maxItems']) {
      out.push({ reason: 'FieldValueTooMany', message: `Too many: ${v.length}: must have at most ${s['maxItems']} items`, field });
    }
    listTypeCauses(s, v, path, out);
    if (isObj(s['items'])) for (const [i, x] of v.entries()) walkValidate(s['items'], x, resolve, `${path}[${i}]`, out, false);
    return;
  }
  if (!isObj(v)) return;
  for (const r of Array.isArray(s['required']) ? (s['required'] as string[]) : []) {
    if (v[r] === undefined && !(root && (r === 'apiVersion' || r === 'kind' || r === 'metadata'))) {
      out.push({ reason: 'FieldValueRequired', message: 'Required value', field: child(path, r) });
    }
  }
  const props = isObj(s['properties']) ? (s['properties'] as Record<string, JsonSchema>) : {};
  for (const [key, x] of Object.entries(v)) {
    if (root && key === 'metadata') continue;
    const p = props[key] ?? (isObj(s['additionalProperties']) ? s['additionalProperties'] : undefined);
    if (p !== undefined) walkValidate(p, x, resolve, child(path, key), out, false);
  }
}

/** `x-kubernetes-list-type: set` (no duplicate items) and `map` (no two items with the same map keys). */
function listTypeCauses(s: JsonSchema, v: unknown[], path: string, out: Cause[]): void {
  const type = s['x-kubernetes-list-type'];
  if (type !== 'set' && type !== 'map') return;
  const keys: string[] = Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : [];
  const seen = new Set<string>();
  for (const [i, x] of v.entries()) {
    const id = type === 'set' ? JSON.stringify(x) : JSON.stringify(keys.map((k) => (isObj(x) ? x[k] : undefined)));
    if (seen.has(id)) {
      const shown = type === 'set' ? show(x) : `map[${keys.map((k) => `${k}:${isObj(x) ? String(x[k]) : ''}`).join(' ')}]`;
      out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${shown}`, field: `${path}[${i}]` });
    }
    seen.add(id);
  }
}

/**
 * The list types a schema declares (x-kubernetes-list-type, and -list-map-keys for `map`), by field path
 * without indices (`spec.ports`, `spec.ports.targets`), as server-side apply merges and owns lists.
 */
export function listTypesOf(schema: JsonSchema): ListTypes {
  const out: ListTypes = {};
  const walk = (s: unknown, path: string): void => {
    if (!isObj(s)) return;
    const type = s['x-kubernetes-list-type'];
    const keys = s['x-kubernetes-list-map-keys'];
    if (path !== '' && (type === 'atomic' || type === 'set' || type === 'map')) {
      out[path] = type === 'map' && Array.isArray(keys) ? { type, keys: keys.map(String) } : { type };
    }
    walk(s['items'], path);
    if (isObj(s['properties'])) for (const [k, p] of Object.entries(s['properties'])) walk(p, child(path, k));
  };
  walk(schema, '');
  return out;
}

/** The structural-schema checks a CRD's schema must pass: a type everywhere it matters, no `$ref`. */
export function structuralErrors(schema: unknown, path: string): Cause[] {
  const out: Cause[] = [];
  const walk = (s: unknown, p: string, root: boolean): void => {
    if (!isObj(s)) return;
    if (s['$ref'] !== undefined)
      out.push({ reason: 'FieldValueForbidden', message: 'Forbidden: $ref is not allowed in a structural schema', field: `${p}.$ref` });
    const ok = s['type'] !== undefined || s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true || !root;
    if (!ok) out.push({ reason: 'FieldValueRequired', message: 'Required value: must not be empty at the root', field: `${p}.type` });
    if (isObj(s['properties'])) for (const [k, x] of Object.entries(s['properties'])) walk(x, `${p}.properties[${k}]`, false);
    if (isObj(s['items'])) walk(s['items'], `${p}.items`, false);
    if (isObj(s['additionalProperties'])) walk(s['additionalProperties'], `${p}.additionalProperties`, false);
  };
  walk(schema, path, true);
  return out;
}
