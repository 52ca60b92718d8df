import type { Engine, WriteOptions } from '../engine.ts';
import { apiVersionOf, type ResourceDef } from '../resources.ts';
import { ApiError, badRequest, notFound } from '../status.ts';
import type { KObj } from '../store.ts';
import { fieldSetOf, isAtomicMap, isUnder, itemKey, listHint, pathString, splitPath, type ListTypes } from './fieldset.ts';
import { canonical, entryFor, ownersOf, sameOwner, scopeOf, withPaths, type ManagedEntry, type Owner } from './managed.ts';
import { isObj } from '../kobj.ts';

/**
 * Server-side apply (PATCH with application/apply-patch+yaml): the body is the manager's whole intent.
 * Fields it sets that another manager owns with a different value are conflicts (409 with one cause per
 * field and manager) unless `force=true`, which takes them over; fields the manager applied last time and
 * no longer sets are removed unless another manager still owns them; the rest merges into the live object
 * by field, associative lists by their keys, atomic lists and maps whole. Creates the object when absent.
 */
export type ApplyRequest = {
  engine: Engine;
  def: ResourceDef;
  namespace?: string;
  name: string;
  sub?: string;
  body: unknown;
  query: URLSearchParams;
  /** fieldValidation and warnings of the request (validation/options.ts). */
  write?: WriteOptions;
};

type Conflict = { path: string; owner: ManagedEntry };

function conflictError(conflicts: Conflict[]): ApiError {
  const who = (e: ManagedEntry) => `"${e.manager}"${e.subresource === undefined ? '' : ` with subresource "${e.subresource}"`} using ${e.apiVersion}`;
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first !== undefined) message = `Apply failed with 1 conflict: conflict with ${who(first.owner)}: ${pathString(first.path)}`;
  else {
    const groups = new Map<string, string[]>();
    for (const c of conflicts) groups.set(who(c.owner), [...(groups.get(who(c.owner)) ?? []), pathString(c.path)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${[...groups].map(([w, ps]) => `conflicts with ${w}:\n${ps.map((p) => `- ${p}`).join('\n')}`).join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${who(c.owner)}`, field: pathString(c.path) })),
  });
}

export function serverSideApply(r: ApplyRequest): KObj {
  const { engine, def, name, sub, query } = r;
  if (!isObj(r.body)) throw badRequest('the apply configuration must be an object');
  const manager = query.get('fieldManager') ?? '';
  if (manager === '') throw badRequest('PATCH requests of type apply must specify fieldManager (fieldManager is required for apply requests)');
  const force = query.get('force') === 'true';
  const dryRun = query.getAll('dryRun').includes('All');
  const body = stripNulls(r.body) as KObj;
  const md: KObj = isObj(body['metadata']) ? body['metadata'] : {};
  if (md['name'] !== undefined && md['name'] !== name)
    throw badRequest(`the name of the object (${String(md['name'])}) does not match the name on the URL (${name})`);
  delete md['managedFields'];
  body['metadata'] = { ...md, name };
  const apiVersion = apiVersionOf(def);
  const scope = scopeOf(def.subresources.includes('status'), sub);
  const types = def.listTypes;
  const applied = fieldSetOf(body, scope, types);
  const cur = engine.find(def, r.namespace, name);
  if (cur === undefined) {
    if (sub !== undefined) throw notFound(def.plural, def.group, name);
    const managedFields = [entryFor(manager, 'Apply', apiVersion, sub, applied.keys())];
    return engine.create(def, r.namespace, body, dryRun, r.write, { manager, operation: 'Apply', managedFields });
  }

  const owners = ownersOf(cur);
  const live = fieldSetOf(cur, scope, types);
  const conflicts: Conflict[] = [];
  for (const [p, v] of applied) {
    const lv = live.get(p);
    if (lv === undefined || lv === v) continue;
    for (const o of owners) if (o.entry.manager !== manager && o.paths.has(p)) conflicts.push({ path: p, owner: o.entry });
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const c of conflicts) for (const o of owners) if (o.entry === c.owner) o.paths.delete(c.path);

  let mine: Owner | undefined = owners.find((o) => sameOwner(o.entry, manager, 'Apply', sub));
  const before = new Set(mine?.paths ?? []);
  const others = owners.filter((o) => o !== mine);
  const ownedElsewhere = (p: string) => others.some((o) => o.paths.has(p) || [...o.paths].some((q) => isUnder(q, p)));
  const drop = [...before].filter((p) => !applied.has(p) && ![...applied.keys()].some((q) => isUnder(q, p)) && !ownedElsewhere(p));

  let merged: KObj = structuredClone(cur);
  // Shallowest first: a removed list item takes its fields (defaulted ones too) with it while its key still matches.
  for (const p of drop.sort((a, b) => splitPath(a).length - splitPath(b).length)) removePath(merged, splitPath(p));
  merged = mergeMap(merged, body, [], types);

  const samePaths = before.size === applied.size && [...applied.keys()].every((p) => before.has(p));
  const unchanged = samePaths && canonical(stripMf(merged)) === canonical(stripMf(cur));
  if (mine === undefined) {
    mine = { entry: entryFor(manager, 'Apply', apiVersion, sub, []), paths: new Set() };
    owners.push(mine);
  }
  mine.paths = new Set(applied.keys());
  if (!unchanged) mine.entry = entryFor(manager, 'Apply', apiVersion, sub, []);
  const managedFields = owners.filter((o) => o.paths.size > 0).map(withPaths);
  return engine.update(def, r.namespace, name, merged, sub, dryRun, r.write, { manager, operation: 'Apply', managedFields });
}

function stripMf(o: KObj): KObj {
  const md = { ...(o['metadata'] ?? {}) };
  delete md['managedFields'];
  delete md['resourceVersion'];
  return { ...o, metadata: md };
}

function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(stripNulls);
  if (!isObj(v)) return v;
  const out: KObj = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
  return out;
}

function mergeMap(live: KObj, app: KObj, anc: string[], types: ListTypes | undefined): KObj {
  const out: KObj = { ...live };
  for (const [k, v] of Object.entries(app)) out[k] = mergeValue(out[k], v, [...anc, k], k, types);
  return out;
}

function mergeValue(live: unknown, app: unknown, anc: string[], name: string, types: ListTypes | undefined): unknown {
  if (isObj(app)) {
    if (!isObj(live) || isAtomicMap(name)) return structuredClone(app);
    return mergeMap(live, app, anc, types);
  }
  if (Array.isArray(app)) {
    if (!Array.isArray(live)) return structuredClone(app);
    const hint = listHint(anc.slice(0, -1), name, [...app, ...live], types?.[anc.join('.')]);
    if (hint.type === 'set') return [...live, ...app.filter((x) => !live.some((y) => canonical(y) === canonical(x)))];
    if (hint.type === 'atomic') return structuredClone(app);
    const out: unknown[] = live.map((x) => structuredClone(x));
    for (const item of app as KObj[]) {
      const key = itemKey(item, hint.keys);
      const idx = out.findIndex((x) => isObj(x) && itemKey(x, hint.keys) === key);
      if (idx >= 0) out[idx] = mergeMap(out[idx] as KObj, item, anc, types);
      else out.push(structuredClone(item));
    }
    return out;
  }
  return app;
}

/** Removes the field at `path` (FieldsV1 elements); maps left empty below the top level go too. */
function removePath(root: KObj, path: string[]): void {
  const chain: { parent: KObj | unknown[]; at: string | number }[] = [];
  let node: unknown = root;
  for (const el of path) {
    if (el.startsWith('f:')) {
      if (!isObj(node)) return;
      const k = el.slice(2);
      if (!(k in node)) return;
      chain.push({ parent: node, at: k });
      node = node[k];
    } else if (el.startsWith('k:') || el.startsWith('v:')) {
      if (!Array.isArray(node)) return;
      let idx: number;
      if (el.startsWith('k:')) {
        const keys = Object.keys(JSON.parse(el.slice(2)) as KObj);
        idx = node.findIndex((x) => isObj(x) && itemKey(x, keys) === el);
      } else idx = node.findIndex((x) => canonical(x) === canonical(JSON.parse(el.slice(2))));
      if (idx < 0) return;
      chain.push({ parent: node, at: idx });
      node = node[idx];
    } else return;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i];
    if (c === undefined) return;
    if (Array.isArray(c.parent)) c.parent.splice(Number(c.at), 1);
    else delete c.parent[String(c.at)];
    // Climb only while what is left is an empty map below the top-level field (metadata.labels, spec.x...).
    const left = c.parent;
    if (i < 2 || !isObj(left) || Object.keys(left).length > 0) return;
  }
}
