import type { ServerResponse } from 'node:http';
import type { Cause } from '../crd/schema.ts';
import { ApiError } from '../status.ts';

/** `Pod`, or `Device.devices.kubeedge.io`: how kube-apiserver names a kind in an Invalid message. */
function qualifiedKind(kind: string, group: string): string {
  return group === '' ? kind : `${kind}.${group}`;
}

/**
 * 422 Invalid with one cause per field, as kube-apiserver sends it; kubectl prints
 * `The Pod "x" is invalid: spec.containers[0].image: Required value` (or a `*` list for several).
 */
export function invalidCauses(kind: string, group: string, name: string, causes: Cause[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(kind, group)} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

/** fieldValidation=Strict: 400 naming the unknown fields, as the strict decoder reports them. */
export function strictDecodingError(kind: string, version: string, fields: string[]): ApiError {
  const list = fields.map((f) => `unknown field "${f}"`).join(', ');
  return new ApiError(400, 'BadRequest', `${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${list}`);
}

/** Adds an HTTP `Warning` header (code 299) that kubectl prints as `Warning: <text>`. */
export function addWarning(res: ServerResponse, text: string): void {
  if (res.headersSent) return;
  const prev = res.getHeader('Warning');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('Warning', [...list, `299 - ${JSON.stringify(text)}`]);
}
