import type { ResourceDef } from './resources.ts';
import { ApiError } from './status.ts';
import type { KObj } from './store.ts';

/**
 * DeleteOptions as the garbage-collector contract reads them: which of the `orphan` and `foregroundDeletion`
 * finalizers an object being deleted must carry. The collector (cloudcore) does the rest: it orphans or deletes
 * the dependents, then removes the finalizer, and the server removes the object once no finalizer is left.
 */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

const POLICIES = ['Orphan', 'Background', 'Foreground'];

/** batch/v1 Jobs keep their pods by default, for compatibility (kube-apiserver warns about it); every other kind deletes them. */
function orphansByDefault(def: ResourceDef): boolean {
  return def.group === 'batch' && def.kind === 'Job';
}

/** 422 for DeleteOptions kube-apiserver refuses (an unknown policy, or both orphanDependents and propagationPolicy). */
export function checkDeleteOptions(opts: KObj): void {
  const causes: { reason: string; message: string; field: string }[] = [];
  const policy = opts['propagationPolicy'];
  if (policy !== undefined && policy !== null && !POLICIES.includes(String(policy))) {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      field: 'propagationPolicy',
    });
  }
  const orphan = opts['orphanDependents'];
  if (orphan !== undefined && orphan !== null && policy !== undefined && policy !== null) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${String(policy)}": orphanDependents and deletionPropagation cannot be both set`,
      field: 'propagationPolicy',
    });
  }
  if (causes.length === 0) return;
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`, {
    group: 'meta.k8s.io',
    kind: 'DeleteOptions',
    causes,
  });
}

/** Whether DeleteOptions named a policy (for the Job warning). */
export function namesPolicy(opts: KObj): boolean {
  return (opts['propagationPolicy'] !== undefined && opts['propagationPolicy'] !== null) || typeof opts['orphanDependents'] === 'boolean';
}

function shouldOrphan(def: ResourceDef, finalizers: string[], opts: KObj): boolean {
  if (typeof opts['orphanDependents'] === 'boolean') return opts['orphanDependents'];
  const policy = opts['propagationPolicy'];
  if (policy === 'Orphan') return true;
  if (policy === 'Background' || policy === 'Foreground') return false;
  if (finalizers.includes(ORPHAN_FINALIZER)) return true;
  if (finalizers.includes(FOREGROUND_FINALIZER)) return false;
  return orphansByDefault(def);
}

function shouldForeground(finalizers: string[], opts: KObj): boolean {
  if (typeof opts['orphanDependents'] === 'boolean') return false;
  const policy = opts['propagationPolicy'];
  if (policy === 'Foreground') return true;
  if (policy === 'Background' || policy === 'Orphan') return false;
  return finalizers.includes(FOREGROUND_FINALIZER);
}

/** The finalizers an object carries once this DELETE is applied (its own ones kept, the GC ones as the options say). */
export function finalizersAfterDelete(def: ResourceDef, finalizers: string[], opts: KObj): string[] {
  const out = finalizers.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (shouldOrphan(def, finalizers, opts)) out.push(ORPHAN_FINALIZER);
  if (shouldForeground(finalizers, opts)) out.push(FOREGROUND_FINALIZER);
  return out;
}

/** The warning kube-apiserver adds when a batch/v1 Job is deleted without a policy (its pods stay). */
export const JOB_ORPHAN_WARNING =
  'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning';

export function warnsOnDelete(def: ResourceDef, opts: KObj): boolean {
  return orphansByDefault(def) && !namesPolicy(opts);
}
