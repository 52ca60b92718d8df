import type { ServerResponse } from 'node:http';
import type { WriteOptions } from '../engine.ts';
import type { ResourceDef } from '../resources.ts';
import { addWarning, strictDecodingError } from './errors.ts';

/** The write options of one request: its fieldValidation directive and a sink for `Warning` headers. */
export function writeOptions(r: { query: URLSearchParams; res: ServerResponse }): WriteOptions {
  return { fieldValidation: r.query.get('fieldValidation'), warn: (m) => addWarning(r.res, m) };
}
/** How a write treats fields its schema does not know: Strict refuses, Warn warns, Ignore drops them silently. */
export function fieldValidationOf(opts: WriteOptions): 'Strict' | 'Warn' | 'Ignore' {
  const v = opts.fieldValidation;
  return v === 'Strict' || v === 'Ignore' ? v : 'Warn';
}

/**
 * What a write does about the unknown fields in its object (`found`), custom and built-in kinds alike: those
 * the stored object already had (`oldFound`, asked only when needed) are not this write's doing and pass;
 * the rest are refused under Strict (400; only warned when `strict` is false, as for status writes of custom
 * objects), warned under Warn, passed under Ignore.
 */
export function checkUnknownFields(def: ResourceDef, found: string[], oldFound: (() => string[]) | undefined, opts: WriteOptions, strict = true): void {
  if (found.length === 0) return;
  const mode = fieldValidationOf(opts);
  if (mode === 'Ignore') return;
  const before = oldFound === undefined ? undefined : new Set(oldFound());
  const added = before === undefined ? found : found.filter((f) => !before.has(f));
  if (added.length === 0) return;
  if (mode === 'Strict' && strict) throw strictDecodingError(def.kind, def.version, added);
  for (const f of added) opts.warn?.(`unknown field "${f}"`);
}
