import { randomUUID, randomBytes } from 'node:crypto';
import { stampManagedFields, type WriteMeta } from './apply/managed.ts';
import { applyCreateDefaults, normaliseSecret, rfc3339 } from './defaults.ts';
import { ResourceRegistry, presentAs } from './crd/registry.ts';
import { RESOURCES, apiVersionOf, findResource, storageKey, type ResourceDef } from './resources.ts';
import { alreadyExists, badRequest, conflict, invalid, notFound, ApiError } from './status.ts';
import type { KObj, Store } from './store.ts';
import { isObj } from './kobj.ts';
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
    if (def.namespaced) this.#requireNamespace(ns);
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
      if (def.subresources.includes('status')) {
        if (cur['status'] === undefined) delete next['status'];
        else next['status'] = structuredClone(cur['status']);
      }
      if (def.kind === 'Secret') normaliseSecret(next);
    }
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
    if (dryRun) return { object: cur, removed: false };
    if (def.group === '' && def.kind === 'Namespace' && SYSTEM_NAMESPACES.includes(name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    const md: KObj = cur['metadata'] ?? {};
    const hasFinalizers = Array.isArray(md['finalizers']) && md['finalizers'].length > 0;
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
      // A second DELETE may shorten the grace period but never lengthen it.
      if (md['deletionTimestamp'] !== undefined && typeof prevGrace === 'number' && prevGrace <= grace) return { object: cur, removed: false };
      const next = structuredClone(cur);
      next['metadata']['deletionTimestamp'] = rfc3339(Date.now() + grace * 1000);
      next['metadata']['deletionGracePeriodSeconds'] = grace;
      return { object: this.store.put(storageKey(def), ns, next, 'MODIFIED', cur), removed: false };
    }
    if (hasFinalizers) {
      if (md['deletionTimestamp'] !== undefined) return { object: cur, removed: false };
      const next = structuredClone(cur);
      next['metadata']['deletionTimestamp'] = rfc3339();
      next['metadata']['deletionGracePeriodSeconds'] = 0;
      return { object: this.store.put(storageKey(def), ns, next, 'MODIFIED', cur), removed: false };
    }
    if (def.group === '' && def.kind === 'Namespace') this.#emptyNamespace(name);
    return { object: this.#stored(def, this.store.remove(storageKey(def), ns, cur), 'DELETED'), removed: true };
  }

  /** Namespace deletion removes everything in it at once (there is no namespace controller to wait for). */
  #emptyNamespace(ns: string): void {
    const seen = new Set<string>();
    for (const def of this.resources.all()) {
      if (!def.namespaced || seen.has(storageKey(def))) continue;
      seen.add(storageKey(def));
      for (const o of this.store.list(storageKey(def), ns)) this.store.remove(storageKey(def), ns, o);
    }
  }
}

function isPod(def: ResourceDef): boolean {
  return def.group === '' && def.kind === 'Pod';
}

/** kind, apiVersion, metadata first, like the real server prints them. */
function reorder(o: KObj): KObj {
  const { kind, apiVersion, metadata, ...rest } = o;
  return { kind, apiVersion, metadata, ...rest };
}
