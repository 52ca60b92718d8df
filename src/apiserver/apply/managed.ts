import { rfc3339 } from '../defaults.ts';
import type { KObj } from '../store.ts';
import { fieldSetOf, fromFieldsV1, SEP, toFieldsV1, type FieldSet, type ListTypes, type Scope } from './fieldset.ts';

/**
 * metadata.managedFields as kube-apiserver keeps them: one entry per (manager, operation, subresource),
 * fields in FieldsV1. Every write that is not an apply records an `Update` entry for its manager: the fields
 * it added or changed become its own and leave every other manager; removed fields leave everyone.
 */
export type ManagedEntry = {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: KObj;
  subresource?: string;
};

/** What a write carries for managed fields: who writes, how, and for an apply the entries it computed. */
export type WriteMeta = {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  /** Set by server-side apply: the managedFields the write stores as they are. */
  managedFields?: ManagedEntry[];
};

/** A decoded entry: its paths as a set, for the merge arithmetic. */
export type Owner = { entry: ManagedEntry; paths: Set<string> };

function isEntry(v: unknown): v is ManagedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as KObj;
  return typeof e['manager'] === 'string' && (e['operation'] === 'Apply' || e['operation'] === 'Update');
}

export function ownersOf(o: KObj | undefined): Owner[] {
  const mf = o?.['metadata']?.['managedFields'];
  if (!Array.isArray(mf)) return [];
  return mf.filter(isEntry).map((entry) => ({ entry, paths: fromFieldsV1(entry.fieldsV1) }));
}

export function sameOwner(e: ManagedEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

/** The part of an object a write to `sub` manages, for a kind that has (or not) a status subresource. */
export function scopeOf(hasStatus: boolean, sub: string | undefined): Scope {
  if (sub === 'status') return 'status';
  return hasStatus ? 'main' : 'all';
}

export function entryFor(
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
  subresource: string | undefined,
  paths: Iterable<string>,
): ManagedEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: rfc3339(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(paths),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

export function withPaths(o: Owner): ManagedEntry {
  return { ...o.entry, fieldsV1: toFieldsV1(o.paths) };
}

/** JSON with object keys sorted, so key order never makes two equal objects differ. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as KObj;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function changedPaths(before: FieldSet, after: FieldSet): { changed: Set<string>; removed: Set<string> } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const [p, v] of after) if (before.get(p) !== v) changed.add(p);
  for (const p of before.keys()) if (!after.has(p)) removed.add(p);
  return { changed, removed };
}

/**
 * Sets next.metadata.managedFields for a write of `next` over `cur` (undefined for a create). A write
 * without WriteMeta (the server's own, such as bootstrap) keeps the entries it finds. A no-op write keeps
 * them exactly, so it stays a no-op.
 */
export function stampManagedFields(
  cur: KObj | undefined,
  next: KObj,
  apiVersion: string,
  hasStatus: boolean,
  w: WriteMeta | undefined,
  types?: ListTypes,
): void {
  const md: KObj = next['metadata'] ?? {};
  next['metadata'] = md;
  if (w?.managedFields !== undefined) {
    setEntries(md, w.managedFields);
    return;
  }
  const sent = md['managedFields'];
  const kept = cur?.['metadata']?.['managedFields'];
  const sentSame = sent === undefined || sent === kept || JSON.stringify(sent) === JSON.stringify(kept);
  const keep = (): void => {
    if (kept === undefined) delete md['managedFields'];
    else md['managedFields'] = kept;
  };
  let owners: Owner[];
  if (cur === undefined) owners = [];
  else if (sentSame) owners = ownersOf(cur);
  else owners = Array.isArray(sent) && sent.length > 0 ? ownersOf(next) : [];
  if (w === undefined) {
    if (cur !== undefined && sentSame) keep();
    else if (cur === undefined) delete md['managedFields'];
    else
      setEntries(
        md,
        owners.map((o) => o.entry),
      );
    return;
  }
  const scope = scopeOf(hasStatus, w.subresource);
  const before = cur === undefined ? new Map<string, string>() : fieldSetOf(cur, scope, types);
  const { changed, removed } = changedPaths(before, fieldSetOf(next, scope, types));
  // Nothing this write manages changed: managedFields stay as they are, so a no-op stays a no-op.
  if (cur !== undefined && sentSame && changed.size === 0 && removed.size === 0) {
    keep();
    return;
  }
  // A path is gone when it or one of its ancestors was removed (a removed list item takes its fields).
  const gone = (p: string): boolean => {
    if (removed.size === 0) return false;
    for (let q = p; ; ) {
      if (removed.has(q)) return true;
      const i = q.lastIndexOf(SEP);
      if (i < 0) return false;
      q = q.slice(0, i);
    }
  };
  let mine = owners.find((o) => sameOwner(o.entry, w.manager, 'Update', w.subresource));
  for (const o of owners) {
    if (o === mine) continue;
    for (const p of [...o.paths]) if (changed.has(p) || gone(p)) o.paths.delete(p);
  }
  if (mine === undefined && changed.size > 0) {
    mine = { entry: entryFor(w.manager, 'Update', apiVersion, w.subresource, []), paths: new Set() };
    owners.push(mine);
  }
  if (mine !== undefined) {
    for (const p of changed) mine.paths.add(p);
    for (const p of [...mine.paths]) if (gone(p)) mine.paths.delete(p);
    if (changed.size > 0) mine.entry = { ...mine.entry, time: rfc3339(), apiVersion };
  }
  setEntries(md, owners.filter((o) => o.paths.size > 0).map(withPaths));
}

function setEntries(md: KObj, entries: ManagedEntry[]): void {
  if (entries.length === 0) delete md['managedFields'];
  else md['managedFields'] = entries;
}

/** The manager of a write: `fieldManager`, else the client's User-Agent up to its first '/', as kube-apiserver derives it. */
export function managerOf(q: URLSearchParams, userAgent: string | undefined): string {
  const fm = q.get('fieldManager');
  if (fm !== null && fm !== '') return fm;
  const ua = (userAgent ?? '').split('/')[0]?.trim() ?? '';
  return ua === '' ? 'unknown' : ua.slice(0, 128);
}

/** The WriteMeta of a write that is not an apply (create, update, patch, scale): an Update by the request's manager. */
export function updateMetaOf(q: URLSearchParams, userAgent: string | undefined, subresource: string | undefined): WriteMeta {
  return { manager: managerOf(q, userAgent), operation: 'Update', ...(subresource === undefined ? {} : { subresource }) };
}
