import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Logger } from '../core/log.ts';

/** A stored Kubernetes object. Kept loose: the engine handles any kind generically. */
// biome-ignore lint/suspicious/noExplicitAny: stored objects are arbitrary JSON whose shape each handler checks
export type KObj = Record<string, any>;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export type StoreEvent = {
  type: EventType;
  rv: number;
  key: string;
  namespace: string;
  object: KObj;
  /** The object before a MODIFIED or DELETED: a selector-filtered watch turns a MODIFIED into ADDED/DELETED, paging rebuilds snapshots. */
  prev?: KObj;
};

export type Watcher = (e: StoreEvent) => void;

const HISTORY = 5000;

/**
 * SQLite-backed object store with one global resourceVersion counter and an in-memory bounded event history
 * for watches. All methods are synchronous, so a handler's read-check-write cannot interleave with another
 * request (Node runs one at a time between awaits).
 */
export class Store {
  readonly #db: DatabaseSync;
  readonly #log: Logger;
  #rv: number;
  /** Watches can resume from any rv >= this; older ones get 410 Expired. */
  #oldestRv: number;
  readonly #history: StoreEvent[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #q: {
    get: StatementSync;
    listAll: StatementSync;
    listNs: StatementSync;
    upsert: StatementSync;
    del: StatementSync;
    setRv: StatementSync;
    pageAll: StatementSync;
    pageNs: StatementSync;
    countAll: StatementSync;
    countNs: StatementSync;
  };

  constructor(path: string, log: Logger) {
    this.#log = log;
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS objects (
        key TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, rv INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (key, namespace, name));
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
    const row = this.#db.prepare(`SELECT v FROM meta WHERE k = 'rv'`).get() as { v: string } | undefined;
    this.#rv = row === undefined ? 0 : Number(row.v);
    this.#oldestRv = this.#rv;
    this.#q = {
      get: this.#db.prepare('SELECT body FROM objects WHERE key = ? AND namespace = ? AND name = ?'),
      listAll: this.#db.prepare('SELECT body FROM objects WHERE key = ? ORDER BY namespace, name'),
      listNs: this.#db.prepare('SELECT body FROM objects WHERE key = ? AND namespace = ? ORDER BY name'),
      upsert: this.#db.prepare(
        'INSERT INTO objects (key, namespace, name, rv, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, namespace, name) DO UPDATE SET rv = excluded.rv, body = excluded.body',
      ),
      del: this.#db.prepare('DELETE FROM objects WHERE key = ? AND namespace = ? AND name = ?'),
      setRv: this.#db.prepare(`INSERT INTO meta (k, v) VALUES ('rv', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`),
      pageAll: this.#db.prepare('SELECT body FROM objects WHERE key = ? AND (namespace > ? OR (namespace = ? AND name > ?)) ORDER BY namespace, name LIMIT ?'),
      pageNs: this.#db.prepare('SELECT body FROM objects WHERE key = ? AND namespace = ? AND name > ? ORDER BY name LIMIT ?'),
      countAll: this.#db.prepare('SELECT COUNT(*) AS n FROM objects WHERE key = ? AND (namespace > ? OR (namespace = ? AND name > ?))'),
      countNs: this.#db.prepare('SELECT COUNT(*) AS n FROM objects WHERE key = ? AND namespace = ? AND name > ?'),
    };
  }

  get currentRv(): number {
    return this.#rv;
  }

  get oldestRv(): number {
    return this.#oldestRv;
  }

  get(key: string, namespace: string, name: string): KObj | undefined {
    const row = this.#q.get.get(key, namespace, name) as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as KObj);
  }

  list(key: string, namespace?: string): KObj[] {
    const rows = (namespace === undefined ? this.#q.listAll.all(key) : this.#q.listNs.all(key, namespace)) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as KObj);
  }

  /**
   * Up to `limit` objects of `key` (in `namespace`, or all) that sort after (afterNs, afterName), in
   * (namespace, name) order, and how many more follow: one page of a list without reading the rest.
   */
  page(key: string, namespace: string | undefined, afterNs: string, afterName: string, limit: number): { items: KObj[]; remaining: number } {
    const rows = (
      namespace === undefined ? this.#q.pageAll.all(key, afterNs, afterNs, afterName, limit) : this.#q.pageNs.all(key, namespace, afterName, limit)
    ) as { body: string }[];
    const items = rows.map((r) => JSON.parse(r.body) as KObj);
    const last = items[items.length - 1]?.['metadata'];
    if (last === undefined) return { items, remaining: 0 };
    const lastNs = String(last['namespace'] ?? '');
    const lastName = String(last['name'] ?? '');
    const c = (namespace === undefined ? this.#q.countAll.get(key, lastNs, lastNs, lastName) : this.#q.countNs.get(key, namespace, lastName)) as { n: number };
    return { items, remaining: Number(c.n) };
  }

  /** Writes `obj` (its metadata.resourceVersion is set here) and notifies watchers. */
  put(key: string, namespace: string, obj: KObj, type: 'ADDED' | 'MODIFIED', prev?: KObj): KObj {
    const rv = this.#rv + 1;
    const name = String(obj['metadata']?.['name'] ?? '');
    obj['metadata'] = { ...(obj['metadata'] ?? {}), resourceVersion: String(rv) };
    this.#tx(() => {
      this.#q.upsert.run(key, namespace, name, rv, JSON.stringify(obj));
      this.#q.setRv.run(String(rv));
    });
    this.#rv = rv;
    this.#emit({ type, rv, key, namespace, object: obj, ...(prev === undefined ? {} : { prev }) });
    return obj;
  }

  /** Removes the object; the DELETED event carries it with a fresh resourceVersion, as etcd-backed k8s does. */
  remove(key: string, namespace: string, obj: KObj): KObj {
    const rv = this.#rv + 1;
    const name = String(obj['metadata']?.['name'] ?? '');
    const gone = { ...obj, metadata: { ...(obj['metadata'] ?? {}), resourceVersion: String(rv) } };
    this.#tx(() => {
      this.#q.del.run(key, namespace, name);
      this.#q.setRv.run(String(rv));
    });
    this.#rv = rv;
    this.#emit({ type: 'DELETED', rv, key, namespace, object: gone, prev: obj });
    return gone;
  }

  #tx(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #emit(e: StoreEvent): void {
    this.#history.push(e);
    if (this.#history.length > HISTORY) {
      const dropped = this.#history.shift();
      if (dropped !== undefined) this.#oldestRv = dropped.rv;
    }
    for (const w of this.#watchers) {
      try {
        w(e);
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'watcher failed');
      }
    }
  }

  /** Events after `fromRv` still in history, or undefined when `fromRv` is older than the history keeps. */
  since(fromRv: number): StoreEvent[] | undefined {
    if (fromRv < this.#oldestRv) return undefined;
    return this.#history.filter((e) => e.rv > fromRv);
  }

  subscribe(w: Watcher): () => void {
    this.#watchers.add(w);
    return () => this.#watchers.delete(w);
  }

  close(): void {
    this.#watchers.clear();
    this.#db.close();
  }
}
