import { randomUUID, randomBytes } from 'node:crypto';
import { stampManagedFields, type WriteMeta } from './apply/managed.ts';
import { applyCreateDefaults, normaliseSecret, rfc3339 } from './defaults.ts';
import { applyWorkloadDefaults } from './workloads/defaults.ts';
import { ResourceRegistry, presentAs } from './crd/registry.ts';
import { RESOURCES, apiVersionOf, findResource, storageKey, type ResourceDef } from './resources.ts';
import { alreadyExists, badRequest, conflict, invalid, invalidCauses, notFound, ApiError } from './status.ts';
import type { KObj, Store } from './store.ts';
import { asList, asStrings, isObj } from './kobj.ts';
import { checkDeleteOptions, finalizersAfterDelete } from './deletion.ts';
import { nameProblem } from './validation/names.ts';

/** Metadata fields clients may not change; they are carried over from the stored object on every update. */
const SERVER_OWNED = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'];

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function nsOf(def: ResourceDef, ns: string | undefined): string {
  return def.namespaced ? (ns ?? '') : '';
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The parts of an object whose change bumps metadata.generation (everything but metadata and status). */
function specPart(o: KObj): string {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = o;
  return JSON.stringify(rest);
}

function sameIgnoringRv(a: KObj, b: KObj): boolean {
  const strip = (o: KObj) => ({ ...o, metadata: { ...o['metadata'], resourceVersion: undefined } });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Per-request options of a write: `fieldValidation` (Strict/Warn/Ignore) and where warnings go. */
export type WriteOptions = { fieldValidation?: string | null; warn?: (message: string) => void };

/**
 * Plug-ins around writes (CRDs in crd/, validation in validation/). `admit` sees the object about to be stored
 * (create, update or status update) and may change it or throw an ApiError; `stored` runs after a write or removal.
 */
export type WriteHooks = {
  admit?(def: ResourceDef, obj: KObj, old: KObj | undefined, sub: string | undefined, opts: WriteOptions): void;
  stored?(def: ResourceDef, obj: KObj, type: 'ADDED' | 'MODIFIED' | 'DELETED'): void;
};

export class Engine {
  readonly store: Store;
  /** What this server serves: the built-ins plus the kinds of its CustomResourceDefinitions. */
  readonly resources: ResourceRegistry;
  readonly hooks: WriteHooks[] = [];
  constructor(store: Store) {
    this.store = store;
    this.resources = new ResourceRegistry(RESOURCES);
  }

  #admit(def: ResourceDef, obj: KObj, old: KObj | undefined, sub: string | undefined, opts: WriteOptions): void {
    for (const h of this.hooks) h.admit?.(def, obj, old, sub, opts);
  }

  #stored(def: ResourceDef, obj: KObj, type: 'ADDED' | 'MODIFIED' | 'DELETED'): KObj {
    for (const h of this.hooks) h.stored?.(def, obj, type);
    return obj;
  }

  /** Creates the namespaces every cluster has; idempotent across restarts. */
  bootstrap(): void {
    const nsDef = findResource('', 'v1', 'namespaces');
    if (nsDef === undefined) return;
    for (const name of SYSTEM_NAMESPACES) {
      if (this.find(nsDef, undefined, name) === undefined) this.create(nsDef, undefined, { metadata: { name } });
    }
  }

  /** The object as `def`'s version presents it (a CRD object stored under another version too), if it exists. */
  find(def: ResourceDef, ns: string | undefined, name: string): KObj | undefined {
    const o = this.store.get(storageKey(def), nsOf(def, ns), name);
    return o === undefined ? undefined : presentAs(def, o);
  }

  get(def: ResourceDef, ns: string | undefined, name: string): KObj {
    const o = this.find(def, ns, name);
    if (o === undefined) throw notFound(def.plural, def.group, name);
    return o;
  }

  list(def: ResourceDef, ns: string | undefined): KObj[] {
    const items = this.store.list(storageKey(def), def.namespaced ? ns : undefined);
    return def.crd === undefined ? items : items.map((o) => presentAs(def, o));
  }

  #checkKind(def: ResourceDef, body: KObj): void {
    const kind = body['kind'];
    const apiVersion = body['apiVersion'];
    if (kind !== undefined && kind !== def.kind) throw badRequest(`the object provided is unrecognized (kind "${String(kind)}" does not match "${def.kind}")`);
    if (apiVersion !== undefined && apiVersion !== apiVersionOf(def)) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
    }
  }

  #checkNamespace(def: ResourceDef, urlNs: string | undefined, md: KObj): string {
    if (!def.namespaced) {
      delete md['namespace'];
      return '';
    }
    const ns = urlNs ?? '';
    if (md['namespace'] !== undefined && md['namespace'] !== '' && md['namespace'] !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    md['namespace'] = ns;
    return ns;
  }

  create(def: ResourceDef, urlNs: string | undefined, body: unknown, dryRun = false, opts: WriteOptions = {}, w?: WriteMeta): KObj {
    if (!isObj(body)) throw badRequest('the body must be a JSON object');
    this.#checkKind(def, body);
    const o: KObj = structuredClone(body);
    const md: KObj = isObj(o['metadata']) ? o['metadata'] : {};
    o['metadata'] = md;
    if ((md['name'] === undefined || md['name'] === '') && typeof md['generateName'] === 'string') {
      md['name'] = `${md['generateName']}${randomSuffix()}`;
    }
    const name = md['name'];
    if (typeof name !== 'string' || name === '') throw invalid(def.kind, def.group, '', 'metadata.name: Required value: name or generateName is required');
    const problem = nameProblem(def, name);
    if (problem !== undefined) throw invalid(def.kind, def.group, name, `metadata.name: Invalid value: "${name}": ${problem}`);
    const ns = this.#checkNamespace(def, urlNs, md);
    if (def.namespaced) {
      this.#requireNamespace(ns);
      this.#refuseIfTerminating(def, ns, name);
    }
    if (this.store.get(storageKey(def), ns, name) !== undefined) throw alreadyExists(def.plural, def.group, name);
    for (const k of [...SERVER_OWNED, 'resourceVersion']) delete md[k];
    md['uid'] = randomUUID();
    md['creationTimestamp'] = rfc3339();
    md['generation'] = 1;
    o['kind'] = def.kind;
    o['apiVersion'] = apiVersionOf(def);
    applyCreateDefaults(def, o, this.store);
    this.#admit(def, o, undefined, undefined, opts);
    stampManagedFields(undefined, o, apiVersionOf(def), def.subresources.includes('status'), w, def.listTypes);
    if (dryRun) return { ...o, metadata: { ...md, resourceVersion: '' } };
    return this.#stored(def, this.store.put(storageKey(def), ns, reorder(o), 'ADDED'), 'ADDED');
  }

  #requireNamespace(ns: string): void {
    if (ns === '') throw badRequest('a namespace is required for this resource');
    if (this.store.get('/namespaces', '', ns) === undefined) throw notFound('namespaces', '', ns);
  }

  /**
   * PUT semantics. `sub` = 'status' changes only status; a main-resource update of a resource with a status
   * subresource keeps the stored status. Stale resourceVersion → 409.
   */
  update(def: ResourceDef, urlNs: string | undefined, name: string, body: unknown, sub?: string, dryRun = false, opts: WriteOptions = {}, w?: WriteMeta): KObj {
    if (!isObj(body)) throw badRequest('the body must be a JSON object');
    this.#checkKind(def, body);
    const ns = nsOf(def, urlNs);
    const cur = this.get(def, ns, name);
    const md: KObj = isObj(body['metadata']) ? structuredClone(body['metadata']) : {};
    if (md['name'] !== undefined && md['name'] !== name)
      throw badRequest(`the name of the object (${String(md['name'])}) does not match the name on the URL (${name})`);
    this.#checkNamespace(def, urlNs, md);
    const rv = md['resourceVersion'];
    if (rv !== undefined && rv !== '' && String(rv) !== cur['metadata']?.['resourceVersion']) {
      throw conflict(def.plural, def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    let next: KObj;
    if (sub === 'status') {
      next = { ...structuredClone(cur), status: structuredClone(body['status']) };
      if (body['status'] === undefined) delete next['status'];
    } else {
      next = structuredClone(body);
      next['metadata'] = md;
      // A binding sets spec.nodeName and the PodScheduled condition in one write.
      if (def.subresources.includes('status') && sub !== 'binding') {
        if (cur['status'] === undefined) delete next['status'];
        else next['status'] = structuredClone(cur['status']);
      }
      if (def.kind === 'Secret') normaliseSecret(next);
    }
    if (isNamespace(def)) keepNamespaceFinalizers(cur, next, sub);
    const nmd: KObj = next['metadata'];
    for (const k of SERVER_OWNED) {
      if (cur['metadata']?.[k] === undefined) delete nmd[k];
      else nmd[k] = cur['metadata'][k];
    }
    nmd['name'] = name;
    if (def.namespaced) nmd['namespace'] = ns;
    else delete nmd['namespace'];
    nmd['resourceVersion'] = cur['metadata']?.['resourceVersion'];
    next['kind'] = def.kind;
    next['apiVersion'] = apiVersionOf(def);
    refuseNewFinalizers(def, cur, next);
    if (sub === undefined && def.crd === undefined && def.group !== '') applyWorkloadDefaults(def, next, false);
    this.#admit(def, next, cur, sub, opts);
    if (sub !== 'status' && specPart(next) !== specPart(cur)) nmd['generation'] = Number(cur['metadata']?.['generation'] ?? 1) + 1;
    stampManagedFields(cur, next, apiVersionOf(def), def.subresources.includes('status'), w, def.listTypes);
    const ordered = reorder(next);
    if (sameIgnoringRv(ordered, cur) || dryRun) return dryRun ? ordered : cur;
    if (this.#finalizeIfDone(def, ns, ordered)) return ordered;
    return this.#stored(def, this.store.put(storageKey(def), ns, ordered, 'MODIFIED', cur), 'MODIFIED');
  }

  /** An object being deleted whose finalizers are gone (and, for pods, whose grace period reached 0) is removed. */
  #finalizeIfDone(def: ResourceDef, ns: string, o: KObj): boolean {
    const md = o['metadata'] ?? {};
    if (md['deletionTimestamp'] === undefined) return false;
    if (Array.isArray(md['finalizers']) && md['finalizers'].length > 0) return false;
    if (isPod(def) && md['deletionGracePeriodSeconds'] !== 0) return false;
    if (isNamespace(def) && asList(o['spec']?.['finalizers']).length > 0) return false;
    this.#stored(def, this.store.remove(storageKey(def), ns, o), 'DELETED');
    return true;
  }

  delete(def: ResourceDef, urlNs: string | undefined, name: string, opts: KObj, dryRun = false): { object: KObj; removed: boolean } {
    const ns = nsOf(def, urlNs);
    const cur = this.get(def, ns, name);
    const pre = isObj(opts['preconditions']) ? opts['preconditions'] : {};
    if (pre['uid'] !== undefined && pre['uid'] !== null && pre['uid'] !== cur['metadata']?.['uid']) {
      throw conflict(
        def.plural,
        def.group,
        name,
        `Precondition failed: UID in precondition: ${String(pre['uid'])}, UID in object meta: ${String(cur['metadata']?.['uid'])}`,
      );
    }
    if (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== null && pre['resourceVersion'] !== cur['metadata']?.['resourceVersion']) {
      throw conflict(
        def.plural,
        def.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${String(pre['resourceVersion'])}, ResourceVersion in object meta: ${String(cur['metadata']?.['resourceVersion'])}`,
      );
    }
    checkDeleteOptions(opts);
    if (def.group === '' && def.kind === 'Namespace' && SYSTEM_NAMESPACES.includes(name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    if (dryRun) return { object: cur, removed: false };
    const md: KObj = cur['metadata'] ?? {};
    const before: string[] = Array.isArray(md['finalizers']) ? md['finalizers'].map(String) : [];
    const finalizers = finalizersAfterDelete(def, before, opts);
    const hasFinalizers = finalizers.length > 0;
    const withFinalizers = (next: KObj): KObj => {
      if (finalizers.length > 0) next['metadata']['finalizers'] = finalizers;
      else delete next['metadata']['finalizers'];
      return next;
    };
    if (def.group === '' && def.kind === 'Namespace') return this.#deleteNamespace(def, cur, withFinalizers);
    const graceOpt = typeof opts['gracePeriodSeconds'] === 'number' ? Math.max(0, Math.floor(opts['gracePeriodSeconds'])) : undefined;
    if (isPod(def)) {
      const spec: KObj = cur['spec'] ?? {};
      const phase = cur['status']?.['phase'];
      const unscheduled = spec['nodeName'] === undefined || spec['nodeName'] === '';
      const terminal = phase === 'Succeeded' || phase === 'Failed';
      let grace = graceOpt ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
      if (unscheduled || terminal) grace = 0;
      const prevGrace = md['deletionGracePeriodSeconds'];
      if (grace === 0 && !hasFinalizers) return { object: this.store.remove(storageKey(def), ns, cur), removed: true };
      // A second DELETE may shorten the grace period but never lengthen it (nor change the finalizers then).
      if (md['deletionTimestamp'] !== undefined && typeof prevGrace === 'number' && prevGrace <= grace) {
        if (prevGrace === 0 && !hasFinalizers) return { object: this.store.remove(storageKey(def), ns, cur), removed: true };
        return { object: cur, removed: false };
      }
      const next = withFinalizers(structuredClone(cur));
      next['metadata']['deletionTimestamp'] = rfc3339(Date.now() + grace * 1000);
      next['metadata']['deletionGracePeriodSeconds'] = grace;
      return { object: this.store.put(storageKey(def), ns, next, 'MODIFIED', cur), removed: false };
    }
    if (hasFinalizers) {
      const next = withFinalizers(structuredClone(cur));
      if (md['deletionTimestamp'] === undefined) {
        next['metadata']['deletionTimestamp'] = rfc3339();
        // As kube-apiserver does for kinds without graceful deletion: the start of deletion is a new generation.
        if (typeof md['generation'] === 'number') next['metadata']['generation'] = md['generation'] + 1;
      }
      next['metadata']['deletionGracePeriodSeconds'] = 0;
      if (JSON.stringify(next) === JSON.stringify(cur)) return { object: cur, removed: false };
      return { object: this.#stored(def, this.store.put(storageKey(def), ns, next, 'MODIFIED', cur), 'MODIFIED'), removed: false };
    }
    return { object: this.#stored(def, this.store.remove(storageKey(def), ns, cur), 'DELETED'), removed: true };
  }

  /**
   * A namespace is never removed by its first DELETE: it turns Terminating, and the namespace controller (cloudcore)
   * deletes its contents, then empties spec.finalizers through `namespaces/NAME/finalize`, which removes it.
   */
  #deleteNamespace(def: ResourceDef, cur: KObj, withFinalizers: (next: KObj) => KObj): { object: KObj; removed: boolean } {
    const md: KObj = cur['metadata'] ?? {};
    const specFinalizers = asList(cur['spec']?.['finalizers']);
    if (md['deletionTimestamp'] !== undefined && specFinalizers.length === 0) {
      const next = withFinalizers(structuredClone(cur));
      if (asList(next['metadata']['finalizers']).length === 0)
        return { object: this.#stored(def, this.store.remove(storageKey(def), '', cur), 'DELETED'), removed: true };
      if (JSON.stringify(next) === JSON.stringify(cur)) return { object: cur, removed: false };
      return { object: this.#stored(def, this.store.put(storageKey(def), '', next, 'MODIFIED', cur), 'MODIFIED'), removed: false };
    }
    const next = withFinalizers(structuredClone(cur));
    next['metadata']['deletionTimestamp'] ??= rfc3339();
    next['status'] = { ...(isObj(next['status']) ? next['status'] : {}), phase: 'Terminating' };
    if (JSON.stringify(next) === JSON.stringify(cur)) return { object: cur, removed: false };
    return { object: this.#stored(def, this.store.put(storageKey(def), '', next, 'MODIFIED', cur), 'MODIFIED'), removed: false };
  }

  /** 403 for a create inside a Terminating namespace, worded as kube-apiserver's NamespaceLifecycle admission words it. */
  #refuseIfTerminating(def: ResourceDef, ns: string, name: string): void {
    const nsObj = this.store.get('/namespaces', '', ns);
    if (nsObj?.['status']?.['phase'] !== 'Terminating') return;
    const res = def.group === '' ? def.plural : `${def.plural}.${def.group}`;
    throw new ApiError(
      403,
      'Forbidden',
      `${res}${name === '' ? '' : ` "${name}"`} is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      { ...(name === '' ? {} : { name }), ...(def.group === '' ? {} : { group: def.group }), kind: def.plural },
    );
  }
}

function isPod(def: ResourceDef): boolean {
  return def.group === '' && def.kind === 'Pod';
}

function isNamespace(def: ResourceDef): boolean {
  return def.group === '' && def.kind === 'Namespace';
}

/** spec.finalizers of a namespace change only through `finalize`, and `finalize` changes nothing else. */
function keepNamespaceFinalizers(cur: KObj, next: KObj, sub: string | undefined): void {
  const curSpec: KObj = isObj(cur['spec']) ? cur['spec'] : {};
  if (sub === 'finalize') {
    const want = isObj(next['spec']) ? next['spec']['finalizers'] : undefined;
    const kept = structuredClone(cur);
    kept['metadata'] = next['metadata'];
    kept['spec'] = { ...curSpec };
    if (Array.isArray(want) && want.length > 0) kept['spec']['finalizers'] = want;
    else delete kept['spec']['finalizers'];
    for (const k of Object.keys(next)) delete next[k];
    Object.assign(next, kept);
    return;
  }
  const spec: KObj = isObj(next['spec']) ? next['spec'] : {};
  next['spec'] = spec;
  if (curSpec['finalizers'] === undefined) delete spec['finalizers'];
  else spec['finalizers'] = structuredClone(curSpec['finalizers']);
}

/** An object being deleted may lose finalizers but not gain any (kube-apiserver's ValidateObjectMetaUpdate). */
function refuseNewFinalizers(def: ResourceDef, cur: KObj, next: KObj): void {
  if (cur['metadata']?.['deletionTimestamp'] === undefined) return;
  const old = new Set(asStrings(cur['metadata']?.['finalizers']));
  const added = [...new Set(asStrings(next['metadata']?.['finalizers']))].filter((f) => !old.has(f)).sort();
  if (added.length === 0) return;
  throw invalidCauses(def.kind, def.group, String(cur['metadata']?.['name'] ?? ''), [
    {
      reason: 'FieldValueForbidden',
      message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
      field: 'metadata.finalizers',
    },
  ]);
}

/** kind, apiVersion, metadata first, like the real server prints them. */
function reorder(o: KObj): KObj {
  const { kind, apiVersion, metadata, ...rest } = o;
  return { kind, apiVersion, metadata, ...rest };
}
