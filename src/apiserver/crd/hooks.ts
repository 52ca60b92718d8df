import type { Engine, WriteHooks, WriteOptions } from '../engine.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { invalidCauses } from '../status.ts';
import { checkUnknownFields } from '../validation/options.ts';
import { admitCrd, defsOfCrd, isEstablished } from './crd.ts';
import { applyDefaults, prune, validate } from './schema.ts';

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

function isCrdDef(def: ResourceDef): boolean {
  return def.group === 'apiextensions.k8s.io' && def.plural === 'customresourcedefinitions';
}

/**
 * Admission of a custom object: unknown fields pruned (refused under Strict, warned under Warn), defaults
 * applied, then validated against the version's structural schema (422 with every failing field).
 */
export function admitCustomObject(def: ResourceDef, o: KObj, old: KObj | undefined, sub: string | undefined, opts: WriteOptions): void {
  const info = def.crd;
  if (info === undefined) return;
  // With a status subresource, status is written only through /status (a create starts without one).
  if (old === undefined && def.subresources.includes('status')) delete o['status'];
  if (info.schema === undefined) return;
  const schema = info.schema;
  // Unknown fields are always dropped; those the stored object already had (an older schema's) without blame.
  const unknown = prune(schema, o);
  checkUnknownFields(def, unknown, old === undefined ? undefined : () => prune(schema, old, undefined, '', false), opts, sub === undefined);
  applyDefaults(info.schema, o);
  const causes = validate(info.schema, o);
  if (causes.length > 0) throw invalidCauses(def.kind, def.group, String(o['metadata']?.['name'] ?? ''), causes);
}

/**
 * CustomResourceDefinitions on an engine: their kinds are served as soon as they are stored (and after a
 * restart), objects of a CRD kind are checked against its schema, and deleting a CRD deletes its objects.
 */
export function installCrdSupport(engine: Engine): void {
  for (const crd of engine.store.list(CRD_KEY)) if (isEstablished(crd)) engine.resources.setCrd(String(crd['metadata']?.['name']), defsOfCrd(crd));
  const hooks: WriteHooks = {
    admit(def, o, old, sub, opts) {
      if (isCrdDef(def)) admitCrd(o, old, engine.store.list(CRD_KEY));
      else admitCustomObject(def, o, old, sub, opts);
    },
    stored(def, o, type) {
      if (!isCrdDef(def)) return;
      const name = String(o['metadata']?.['name']);
      if (type !== 'DELETED') {
        engine.resources.setCrd(name, isEstablished(o) ? defsOfCrd(o) : []);
        return;
      }
      engine.resources.removeCrd(name);
      const key = `${o['spec']?.['group']}/${o['spec']?.['names']?.['plural']}`;
      for (const x of engine.store.list(key)) engine.store.remove(key, String(x['metadata']?.['namespace'] ?? ''), x);
    },
  };
  engine.hooks.push(hooks);
}
