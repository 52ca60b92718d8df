import type { ServerResponse } from 'node:http';
import type { WriteOptions } from '../engine.ts';
import { addWarning } from './errors.ts';

/** The write options of one request: its fieldValidation directive and a sink for `Warning` headers. */
export function writeOptions(r: { query: URLSearchParams; res: ServerResponse }): WriteOptions {
  return { fieldValidation: r.query.get('fieldValidation'), warn: (m) => addWarning(r.res, m) };
}
/** How a write treats fields its schema does not know: Strict refuses, Warn warns, Ignore drops them silently. */
export function fieldValidationOf(opts: WriteOptions): 'Strict' | 'Warn' | 'Ignore' {
  const v = opts.fieldValidation;
  return v === 'Strict' || v === 'Ignore' ? v : 'Warn';
}
