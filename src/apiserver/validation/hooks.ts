import { prune } from '../crd/schema.ts';
import type { Engine, WriteHooks } from '../engine.ts';
import { builtinRootSchema, builtinSchema } from '../openapi.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { builtinCauses } from './builtin.ts';
import { invalidCauses } from '../status.ts';
import { checkUnknownFields, fieldValidationOf } from './options.ts';

/** Fields of `o` that the kind's OpenAPI schema does not know (nothing is removed: built-ins keep what they were sent). */
export function unknownFields(def: ResourceDef, o: KObj): string[] {
  const schema = builtinRootSchema(def);
  if (schema === undefined) return [];
  const copy = { ...o, metadata: undefined };
  const found = prune(schema, copy, builtinSchema, '', false);
  const md = builtinSchema('io.k8s.api.v1.ObjectMeta');
  if (md !== undefined && typeof o['metadata'] === 'object') found.push(...prune(md, o['metadata'], builtinSchema, 'metadata', false));
  return found;
}

/**
 * Validation of built-in kinds on every write: fieldValidation (Strict → 400 naming the unknown fields, Warn →
 * a Warning header each, Ignore), then the checks of builtin.ts (422 Invalid with causes). On update only the
 * unknown fields the request adds count, so an object stored with an odd field stays writable.
 */
export function installValidation(engine: Engine): void {
  const hooks: WriteHooks = {
    admit(def, o, old, sub, opts) {
      if (def.crd !== undefined) return;
      // Under Ignore the schema walk is skipped: built-ins keep what they were sent either way.
      const found = fieldValidationOf(opts) === 'Ignore' ? [] : unknownFields(def, o);
      checkUnknownFields(def, found, old === undefined ? undefined : () => unknownFields(def, old), opts);
      const causes = builtinCauses(def, o, old, sub);
      if (causes.length > 0) throw invalidCauses(def.kind, def.group, String(o['metadata']?.['name'] ?? ''), causes);
    },
  };
  engine.hooks.push(hooks);
}
