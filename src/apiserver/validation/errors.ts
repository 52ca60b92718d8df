import type { ServerResponse } from 'node:http';
import { ApiError } from '../status.ts';

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
