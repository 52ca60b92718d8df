import { endsWithCrd, presentAs } from '../crd/registry.ts';
import { watchStartOf } from '../paging.ts';
import { apiVersionOf, storageKey } from '../resources.ts';
import { parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import { expired, badRequest } from '../status.ts';
import type { KObj, StoreEvent } from '../store.ts';
import { includeObjectOf, toTable, wantsTable } from '../tables.ts';
import type { ResourceRequest } from './resource.ts';

const BOOKMARK_MS = 10_000;
/** Pending output beyond this means a stalled client: drop it rather than buffer without bound. */
const MAX_PENDING = 16 * 1024 * 1024;

type Out = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KObj };

/**
 * A watch stream: newline-delimited JSON events over a chunked 200 response, from a resourceVersion
 * (replayed from the store's bounded history, 410 Expired as an ERROR event when too old), or from
 * "now" after synthetic ADDED events for what exists when no resourceVersion (or "0") is given.
 */
export function serveWatch(r: ResourceRequest): void {
  const { res, def, query, engine } = r;
  const store = engine.store;
  const key = storageKey(def);
  const ns = def.namespaced ? r.namespace : undefined;
  const ls = parseLabelSelector(query.get('labelSelector'));
  const fs = parseFieldSelector(query.get('fieldSelector'), def);
  const matches = (o: KObj | undefined) => o !== undefined && ls(o) && fs(o);
  const table = wantsTable(r.req.headers.accept);
  const include = includeObjectOf(query);
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const start = watchStartOf(query);
  const timeoutParam = query.get('timeoutSeconds');
  let timeoutS = timeoutParam === null ? 1800 + Math.floor(Math.random() * 1800) : Number(timeoutParam);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw badRequest(`invalid timeoutSeconds "${timeoutParam}"`);
  if (timeoutS === 0) timeoutS = 1800;
  timeoutS = Math.min(timeoutS, 86_400); // setTimeout overflows past 2^31 ms
  const fromRv = start.fromRv;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let lastRv = store.currentRv;

  const write = (e: Out): void => {
    if (closed) return;
    let object = presentAs(def, e.object);
    if (table && (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED')) {
      object = toTable(def, [object], include, String(object['metadata']?.['resourceVersion'] ?? ''));
    }
    res.write(`${JSON.stringify({ type: e.type, object })}\n`);
    if (res.writableLength > MAX_PENDING) finish();
  };

  const onEvent = (e: StoreEvent): void => {
    if (endsWithCrd(def, e)) return finish();
    if (e.key !== key || (ns !== undefined && e.namespace !== ns)) return;
    lastRv = e.rv;
    const now = matches(e.object);
    if (e.type === 'MODIFIED') {
      const before = matches(e.prev);
      if (now && before) write({ type: 'MODIFIED', object: e.object });
      else if (now) write({ type: 'ADDED', object: e.object });
      else if (before) write({ type: 'DELETED', object: e.object });
    } else if (now) write({ type: e.type, object: e.object });
  };

  let unsubscribe: () => void = () => {};
  const timers: NodeJS.Timeout[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.end();
  };
  res.on('close', finish);

  const bookmark = (annotations?: Record<string, string>): Out => ({
    type: 'BOOKMARK',
    object: {
      kind: def.kind,
      apiVersion: apiVersionOf(def),
      metadata: { resourceVersion: String(Math.max(lastRv, store.currentRv)), ...(annotations === undefined ? {} : { annotations }) },
    },
  });
  if (start.mode === 'list') {
    for (const o of engine.list(def, ns)) if (matches(o)) write({ type: 'ADDED', object: o });
    if (start.initialEventsEnd) write(bookmark({ 'k8s.io/initial-events-end': 'true' }));
  } else if (fromRv !== undefined) {
    const past = store.since(fromRv);
    if (past === undefined) {
      const err = expired(`too old resource version: ${fromRv} (${store.oldestRv})`);
      write({ type: 'ERROR', object: err.toStatus() });
      finish();
      return;
    }
    for (const e of past) onEvent(e);
  }
  // Nothing can be written between the list/replay above and this subscribe (all synchronous), so no gap.
  unsubscribe = store.subscribe(onEvent);
  lastRv = Math.max(lastRv, store.currentRv);
  timers.push(setTimeout(finish, timeoutS * 1000));
  if (bookmarks) {
    const bm = setInterval(() => write(bookmark()), BOOKMARK_MS);
    timers.push(bm);
  }
}
