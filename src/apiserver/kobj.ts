import type { KObj } from './store.ts';

/** A JSON object (not an array, not null). */
export function isObj(v: unknown): v is KObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a JSON object, else an empty one: for reading optional nested fields. */
export function asObj(v: unknown): KObj {
  return isObj(v) ? v : {};
}

/**
 * `v` when it is an array, else an empty one: for reading optional lists of objects. An element that is not an
 * object (`ownerReferences: [null]`) reads as an empty one, as Go decodes null into a zero struct, so validation
 * names the missing fields instead of the server failing on it.
 */
/** A list of strings (finalizers, names): what is not a string is left out (validation reports it). */
export function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function asList(v: unknown): KObj[] {
  if (!Array.isArray(v)) return [];
  return v.every(isObj) ? (v as KObj[]) : v.map((x) => (isObj(x) ? x : {}));
}
