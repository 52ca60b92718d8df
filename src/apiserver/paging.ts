import { ApiError, badRequest, expired } from './status.ts';
import type { KObj, Store } from './store.ts';

/**
 * List paging and resourceVersion semantics, as kube-apiserver's etcd storage offers them:
 * - `limit` + `continue`: the continue token is opaque to clients; it holds the resourceVersion of the first
 *   page's snapshot and the last key returned, so every page is cut from that same snapshot. The snapshot
 *   is rebuilt from the current objects by undoing the store's event history; once the history no longer
 *   reaches back to it the token is answered 410 Expired, with a fresh token (resourceVersion -1: "the
 *   current state") that continues after the same key, as Kubernetes does.
 * - `resourceVersion` + `resourceVersionMatch`: unset = most recent; "0" = any; N with NotOlderThan (or no
 *   match) = the current state once it is at least N; N with Exact = the snapshot at N.
 */

type Token = { v: 'meta.k8s.io/v1'; rv: number; start: string };

export type ListPage = {
  items: KObj[];
  /** metadata of the List: resourceVersion, continue, remainingItemCount. */
  meta: { resourceVersion: string; continue?: string; remainingItemCount?: number };
};

export function encodeContinue(rv: number, lastKey: string): string {
  const t: Token = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
  const o = t as Partial<Token> | null;
  if (o === null || typeof o !== 'object' || o.v !== 'meta.k8s.io/v1' || typeof o.rv !== 'number' || typeof o.start !== 'string') {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return { rv: o.rv, start: o.start };
}

/** The sort key of an object: namespace/name, the order the store lists in. */
function keyOf(o: KObj): string {
  const md = o['metadata'] ?? {};
  return `${String(md['namespace'] ?? '')}/${String(md['name'] ?? '')}`;
}

function nsName(o: KObj): [string, string] {
  const md = o['metadata'] ?? {};
  return [String(md['namespace'] ?? ''), String(md['name'] ?? '')];
}

/** (namespace, name) order, the order SQLite lists in (neither part contains '/', so `ns/name` splits back). */
function byKey(a: KObj, b: KObj): number {
  const [an, am] = nsName(a);
  const [bn, bm] = nsName(b);
  if (an !== bn) return an < bn ? -1 : 1;
  return am < bm ? -1 : am > bm ? 1 : 0;
}

/** The (namespace, name) after which a page starts, from a token's `start` (`ns/name` plus a NUL). */
function startOf(start: string): [string, string] {
  const s = start.endsWith('\u0000') ? start.slice(0, -1) : start;
  const i = s.indexOf('/');
  return i < 0 ? ['', s] : [s.slice(0, i), s.slice(i + 1)];
}

function after(o: KObj, [sn, sm]: [string, string]): boolean {
  const [n, m] = nsName(o);
  return n > sn || (n === sn && m > sm);
}

/** 410 Expired whose Status carries a continue token that resumes after the same key on the current state. */
class ExpiredContinue extends ApiError {
  readonly #continue: string;
  constructor(token: string, message: string) {
    super(410, 'Expired', message);
    this.#continue = token;
  }
  override toStatus(): Record<string, unknown> {
    return { ...super.toStatus(), metadata: { continue: this.#continue } };
  }
}

function tooLarge(rv: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version: ${rv}, current: ${current}` }],
    retryAfterSeconds: 1,
  });
}

/**
 * The objects of `key` (in `ns`, or all namespaces) as they were at `rv`, or undefined when the store's
 * history no longer reaches back that far.
 */
export function snapshotAt(store: Store, key: string, ns: string | undefined, rv: number): KObj[] | undefined {
  const events = store.since(rv);
  if (events === undefined) return undefined;
  const objs = new Map<string, KObj>();
  for (const o of store.list(key, ns)) objs.set(keyOf(o), o);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e === undefined || e.key !== key || (ns !== undefined && e.namespace !== ns)) continue;
    const k = keyOf(e.object);
    if (e.type === 'ADDED') objs.delete(k);
    else if (e.prev !== undefined) objs.set(k, e.prev);
  }
  return [...objs.values()].sort(byKey);
}

function unchangedSince(store: Store, key: string, ns: string | undefined, rv: number): boolean {
  if (rv === store.currentRv) return true;
  const events = store.since(rv);
  return events !== undefined && !events.some((e) => e.key === key && (ns === undefined || e.namespace === ns));
}

export type ListQuery = {
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
};

/** Reads limit/continue/resourceVersion/resourceVersionMatch from a list request's query, checking them as k8s does. */
export function listQueryOf(q: URLSearchParams): ListQuery {
  const out: ListQuery = {};
  const limit = q.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid limit "${limit}"`);
    if (n > 0) out.limit = n;
  }
  const cont = q.get('continue');
  if (cont !== null && cont !== '') out.continue = cont;
  const rv = q.get('resourceVersion');
  if (rv !== null && rv !== '') out.resourceVersion = rv;
  const match = q.get('resourceVersionMatch');
  if (match !== null && match !== '') out.resourceVersionMatch = match;
  if (out.continue !== undefined) {
    if (out.resourceVersion !== undefined && out.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    if (out.resourceVersionMatch !== undefined) throw badRequest('specifying resource version match is not allowed when using continue');
  }
  if (out.resourceVersionMatch !== undefined) {
    if (out.resourceVersionMatch !== 'NotOlderThan' && out.resourceVersionMatch !== 'Exact') {
      throw invalidMatch(`resourceVersionMatch: Unsupported value: "${out.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`);
    }
    if (out.resourceVersion === undefined)
      throw invalidMatch('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (out.resourceVersionMatch === 'Exact' && out.resourceVersion === '0') {
      throw invalidMatch('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
  }
  if (out.resourceVersion !== undefined && !/^\d+$/.test(out.resourceVersion)) throw badRequest(`invalid resourceVersion "${out.resourceVersion}"`);
  return out;
}

function invalidMatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${message}`, { kind: 'ListOptions', group: 'meta.k8s.io' });
}

/**
 * One page of a list. `filter` (label and field selectors) applies before the page is cut, so a page holds
 * up to `limit` matching objects; remainingItemCount is only given without a filter, as Kubernetes does.
 */
export function listPage(store: Store, key: string, ns: string | undefined, q: ListQuery, filter?: (o: KObj) => boolean): ListPage {
  const current = store.currentRv;
  let snapRv = current;
  let start = '';
  let all: KObj[] | undefined;
  if (q.continue !== undefined) {
    const t = decodeContinue(q.continue);
    start = t.start;
    if (t.rv > 0) {
      snapRv = t.rv;
      if (snapRv > current) throw badRequest('continue key is not valid: resourceVersion is newer than the server');
      // The snapshot is rebuilt only when something of this key changed since it was taken.
      const rebuilt = unchangedSince(store, key, ns, snapRv) ? null : snapshotAt(store, key, ns, snapRv);
      if (rebuilt !== null) all = rebuilt;
      if (rebuilt === undefined) {
        const fresh = encodeContinue(-1, start.endsWith('\u0000') ? start.slice(0, -1) : start);
        throw new ExpiredContinue(
          fresh,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
    }
  } else if (q.resourceVersion !== undefined && q.resourceVersion !== '0') {
    const want = Number(q.resourceVersion);
    if (want > current) throw tooLarge(want, current);
    if (q.resourceVersionMatch === 'Exact') {
      snapRv = want;
      all = snapshotAt(store, key, ns, want);
      if (all === undefined) throw expired(`too old resource version: ${want} (${store.oldestRv})`);
    }
  }
  const [sn, sm] = start === '' ? ['', ''] : startOf(start);
  const meta0: ListPage['meta'] = { resourceVersion: String(snapRv) };
  // Fast path: an unfiltered page of a state the store still holds (nothing of this key changed since the
  // snapshot) is read straight from SQLite, without parsing the rest of the list.
  if (all === undefined && filter === undefined && q.limit !== undefined && unchangedSince(store, key, ns, snapRv)) {
    const { items, remaining } = store.page(key, ns, sn, sm, q.limit);
    const last = items[items.length - 1];
    if (remaining === 0 || last === undefined) return { items, meta: meta0 };
    return { items, meta: { ...meta0, continue: encodeContinue(snapRv, keyOf(last)), remainingItemCount: remaining } };
  }
  all ??= store.list(key, ns).sort(byKey);
  const matching = filter === undefined ? all : all.filter(filter);
  let from = 0;
  if (start !== '') {
    from = matching.findIndex((o) => after(o, [sn, sm]));
    if (from < 0) from = matching.length;
  }
  const rest = matching.slice(from);
  const meta: ListPage['meta'] = { resourceVersion: String(snapRv) };
  if (q.limit === undefined || rest.length <= q.limit) return { items: rest, meta };
  const items = rest.slice(0, q.limit);
  const last = items[items.length - 1];
  meta.continue = encodeContinue(snapRv, last === undefined ? '' : keyOf(last));
  if (filter === undefined) meta.remainingItemCount = rest.length - items.length;
  return { items, meta };
}

export type WatchStart = {
  /** 'list': ADDED events for what exists now first; 'since': replay history after fromRv; 'now': only new events. */
  mode: 'list' | 'since' | 'now';
  fromRv?: number;
  /** After the initial ADDED events, a BOOKMARK annotated `k8s.io/initial-events-end: "true"` (sendInitialEvents). */
  initialEventsEnd: boolean;
};

/**
 * Where a watch starts, from resourceVersion / resourceVersionMatch / sendInitialEvents / allowWatchBookmarks,
 * with kube-apiserver's checks: sendInitialEvents needs resourceVersionMatch=NotOlderThan and bookmarks, and
 * resourceVersionMatch on a watch needs sendInitialEvents.
 */
export function watchStartOf(q: URLSearchParams): WatchStart {
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  const sie = q.get('sendInitialEvents');
  if (rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resourceVersion "${rv}"`);
  if (sie === null || sie === '') {
    if (match !== '') throw invalidMatch('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    if (rv === '' || rv === '0') return { mode: 'list', initialEventsEnd: false };
    return { mode: 'since', fromRv: Number(rv), initialEventsEnd: false };
  }
  if (sie !== 'true' && sie !== 'false') throw badRequest(`invalid sendInitialEvents "${sie}"`);
  if (match !== 'NotOlderThan') {
    throw invalidMatch(`resourceVersionMatch: Unsupported value: "${match}": supported values: "NotOlderThan" (sendInitialEvents requires it)`);
  }
  if (q.get('allowWatchBookmarks') !== 'true')
    throw invalidMatch('allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true');
  if (sie === 'true') return { mode: 'list', initialEventsEnd: true };
  if (rv === '' || rv === '0') return { mode: 'now', initialEventsEnd: false };
  return { mode: 'since', fromRv: Number(rv), initialEventsEnd: false };
}
