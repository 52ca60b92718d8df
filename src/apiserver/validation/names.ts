import type { ResourceDef } from '../resources.ts';

/** DNS names as apimachinery's validation checks them (object names, container names, CRD names). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/**
 * Why `name` cannot be metadata.name of a `def` object, undefined when it can: a DNS subdomain of at most 253
 * characters, or for kinds with `nameValidation: 'path-segment'` (RBAC: `system:discovery`) any path segment.
 */
export function nameProblem(def: ResourceDef, name: string): string | undefined {
  if (def.nameValidation === 'path-segment') {
    if (name === '.' || name === '..') return `may not be '${name}'`;
    for (const c of ['/', '%']) if (name.includes(c)) return `may not contain '${c}'`;
    return undefined;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  return DNS1123_SUBDOMAIN.test(name) ? undefined : SUBDOMAIN_MSG;
}
