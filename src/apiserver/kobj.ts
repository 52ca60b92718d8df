import type { KObj } from './store.ts';

/** A JSON object (not an array, not null). */
export function isObj(v: unknown): v is KObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a JSON object, else an empty one: for reading optional nested fields. */
export function asObj(v: unknown): KObj {
  return isObj(v) ? v : {};
}

/** `v` when it is an array, else an empty one: for reading optional lists of objects. */
export function asList(v: unknown): KObj[] {
  return Array.isArray(v) ? (v as KObj[]) : [];
}
