import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logger } from '../core/log.ts';
import { decodeContinue, encodeContinue, listPage, listQueryOf, snapshotAt, watchStartOf } from './paging.ts';
import { ApiError } from './status.ts';
import { Store, type KObj } from './store.ts';

function cm(name: string, v = '1'): KObj {
  return { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace: 'p' }, data: { v } };
}

function names(items: KObj[]): string[] {
  return items.map((o) => String(o['metadata']['name']));
}

function storeWith(n: number): Store {
  const log = logger('paging-test');
  log.level = 'silent';
  const s = new Store(':memory:', log);
  for (let i = 0; i < n; i++) s.put('/configmaps', 'p', cm(`cm-${i}`), 'ADDED');
  return s;
}

function status(err: unknown): Record<string, unknown> {
  assert.ok(err instanceof ApiError);
  return err.toStatus();
}

test('pages of 2 over 7 objects: 4 pages, remainingItemCount, every page from the first page snapshot', () => {
  const s = storeWith(7);
  const q = (c?: string) => ({ limit: 2, ...(c === undefined ? {} : { continue: c }) });
  const p1 = listPage(s, '/configmaps', 'p', q());
  assert.deepEqual(names(p1.items), ['cm-0', 'cm-1']);
  assert.equal(p1.meta.remainingItemCount, 5);
  const snap = p1.meta.resourceVersion;
  // Writes between pages: a new object, a deleted one and a changed one are not seen by later pages.
  s.put('/configmaps', 'p', cm('cm-25'), 'ADDED');
  const gone = s.get('/configmaps', 'p', 'cm-3');
  assert.ok(gone);
  s.remove('/configmaps', 'p', gone);
  const before = s.get('/configmaps', 'p', 'cm-4');
  assert.ok(before);
  s.put('/configmaps', 'p', { ...cm('cm-4', '2') }, 'MODIFIED', before);
  const p2 = listPage(s, '/configmaps', 'p', q(p1.meta.continue));
  assert.deepEqual(names(p2.items), ['cm-2', 'cm-3']);
  assert.equal(p2.meta.resourceVersion, snap);
  const p3 = listPage(s, '/configmaps', 'p', q(p2.meta.continue));
  assert.deepEqual(names(p3.items), ['cm-4', 'cm-5']);
  assert.equal(p3.items[0]?.['data']['v'], '1');
  const p4 = listPage(s, '/configmaps', 'p', q(p3.meta.continue));
  assert.deepEqual(names(p4.items), ['cm-6']);
  assert.equal(p4.meta.continue, undefined);
  assert.equal(p4.meta.remainingItemCount, undefined);
  s.close();
});

test('a filter applies before the page is cut and hides remainingItemCount', () => {
  const s = storeWith(6);
  const odd = (o: KObj) => Number(String(o['metadata']['name']).slice(3)) % 2 === 1;
  const p1 = listPage(s, '/configmaps', 'p', { limit: 2 }, odd);
  assert.deepEqual(names(p1.items), ['cm-1', 'cm-3']);
  assert.equal(p1.meta.remainingItemCount, undefined);
  const p2 = listPage(s, '/configmaps', 'p', { limit: 2, ...(p1.meta.continue === undefined ? {} : { continue: p1.meta.continue }) }, odd);
  assert.deepEqual(names(p2.items), ['cm-5']);
  s.close();
});

test('a continue token whose snapshot was compacted away is 410 Expired with a fresh token that resumes after the same key', () => {
  const s = storeWith(3);
  const p1 = listPage(s, '/configmaps', 'p', { limit: 1 });
  assert.ok(p1.meta.continue);
  // Push the snapshot out of the bounded event history.
  for (let i = 0; i < 5001; i++) s.put('/configmaps', 'q', cm(`x-${i % 10}`), 'ADDED');
  let err: unknown;
  try {
    listPage(s, '/configmaps', 'p', { limit: 1, continue: p1.meta.continue });
  } catch (e) {
    err = e;
  }
  const st = status(err);
  assert.equal(st['code'], 410);
  assert.equal(st['reason'], 'Expired');
  const fresh = (st['metadata'] as { continue?: string }).continue;
  assert.ok(fresh);
  assert.equal(decodeContinue(fresh).rv, -1);
  const p2 = listPage(s, '/configmaps', 'p', { limit: 5, continue: fresh });
  assert.deepEqual(names(p2.items), ['cm-1', 'cm-2']);
  s.close();
});

test('resourceVersionMatch=Exact lists the snapshot at that resourceVersion; NotOlderThan a future one is 504', () => {
  const s = storeWith(2);
  const rv = s.currentRv;
  s.put('/configmaps', 'p', cm('cm-9'), 'ADDED');
  const exact = listPage(s, '/configmaps', 'p', listQueryOf(new URLSearchParams({ resourceVersion: String(rv), resourceVersionMatch: 'Exact' })));
  assert.deepEqual(names(exact.items), ['cm-0', 'cm-1']);
  assert.equal(exact.meta.resourceVersion, String(rv));
  const newer = listPage(s, '/configmaps', 'p', listQueryOf(new URLSearchParams({ resourceVersion: String(rv), resourceVersionMatch: 'NotOlderThan' })));
  assert.deepEqual(names(newer.items), ['cm-0', 'cm-1', 'cm-9']);
  assert.throws(
    () => listPage(s, '/configmaps', 'p', listQueryOf(new URLSearchParams({ resourceVersion: String(rv + 100) }))),
    (e: unknown) => status(e)['code'] === 504,
  );
  assert.deepEqual(names(snapshotAt(s, '/configmaps', undefined, rv) ?? []), ['cm-0', 'cm-1']);
  s.close();
});

test('list and watch options are checked as kube-apiserver checks them', () => {
  const bad = (q: Record<string, string>, f: (q: URLSearchParams) => unknown) => assert.throws(() => f(new URLSearchParams(q)), ApiError);
  bad({ resourceVersionMatch: 'Exact' }, listQueryOf);
  bad({ resourceVersion: '0', resourceVersionMatch: 'Exact' }, listQueryOf);
  bad({ continue: encodeContinue(3, 'a/b'), resourceVersion: '3' }, listQueryOf);
  bad({ limit: '-1' }, listQueryOf);
  assert.throws(() => decodeContinue('not-a-token'), ApiError);
  bad({ resourceVersionMatch: 'NotOlderThan' }, watchStartOf);
  bad({ sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' }, watchStartOf);
  assert.deepEqual(watchStartOf(new URLSearchParams({ sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true' })), {
    mode: 'list',
    initialEventsEnd: true,
  });
  assert.deepEqual(watchStartOf(new URLSearchParams({ resourceVersion: '7' })), { mode: 'since', fromRv: 7, initialEventsEnd: false });
});

test('pages across namespaces come in (namespace, name) order, the same from SQLite pages and from a rebuilt snapshot', () => {
  const log = logger('paging-test');
  log.level = 'silent';
  const s = new Store(':memory:', log);
  for (const [ns, name] of [
    ['a-b', 'x'],
    ['a', 'z'],
    ['a', 'y'],
    ['b', 'w'],
  ] as const) {
    s.put('/configmaps', ns, { metadata: { name, namespace: ns } }, 'ADDED');
  }
  const walk = (filter?: (o: KObj) => boolean): string[] => {
    const out: string[] = [];
    let cont: string | undefined;
    do {
      const p = listPage(s, '/configmaps', undefined, { limit: 1, ...(cont === undefined ? {} : { continue: cont }) }, filter);
      out.push(...p.items.map((o) => `${o['metadata']['namespace']}/${o['metadata']['name']}`));
      cont = p.meta.continue;
    } while (cont !== undefined);
    return out;
  };
  const want = ['a/y', 'a/z', 'a-b/x', 'b/w'];
  assert.deepEqual(walk(), want);
  assert.deepEqual(
    walk(() => true),
    want,
  );
  const first = listPage(s, '/configmaps', undefined, { limit: 3 });
  assert.equal(first.meta.remainingItemCount, 1);
  s.close();
});
