import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { edgeMetrics } from '../../metrics/edge.ts';
import { MetaStoreError } from './errors.ts';

/** One row of KubeEdge's `meta` table (plus the resourceVersion we keep beside it). */
export type MetaRecord = {
  key: string;
  type: string;
  /** The object as JSON text, exactly as stored. */
  value: string;
  /** '' when the object carried none. */
  resourceVersion: string;
};

/** What a write did: `stale` means a newer resourceVersion was already stored and nothing changed. */
export type PutResult = 'stored' | 'stale';
export type DeleteResult = 'deleted' | 'absent' | 'stale';

/**
 * Compares Kubernetes resourceVersions as unsigned integers (the cloud's are etcd revisions). Returns
 * undefined when either is not a plain unsigned integer: then nothing can be said and callers must not refuse.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d{1,40}$/.test(a) || !/^\d{1,40}$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `metadata.resourceVersion` of a JSON object, or ''. */
export function resourceVersionOf(obj: unknown): string {
  if (typeof obj !== 'object' || obj === null) return '';
  const md = (obj as Record<string, unknown>)['metadata'];
  if (typeof md !== 'object' || md === null) return '';
  const rv = (md as Record<string, unknown>)['resourceVersion'];
  return typeof rv === 'string' ? rv : '';
}

/**
 * The edge's local copy of cloud objects: KubeEdge's `meta` table (`key`, `type`, `value`) in SQLite with WAL
 * and synchronous=FULL, so a write that returned has reached the disk before the cloud is told "OK".
 */
export class MetaStore {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #del: StatementSync;
  #closed = false;

  constructor(dataSource: string) {
    this.#path = dataSource;
    try {
      if (dataSource !== ':memory:') mkdirSync(dirname(dataSource), { recursive: true });
      this.#db = new DatabaseSync(dataSource);
      this.#db.exec('PRAGMA journal_mode=WAL');
      this.#db.exec('PRAGMA synchronous=FULL');
      this.#db.exec('PRAGMA busy_timeout=5000');
      this.#db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT NULL)');
      this.#migrate();
      this.#db.exec('CREATE INDEX IF NOT EXISTS meta_type ON meta(type)');
    } catch (err) {
      throw new MetaStoreError(`cannot open edge database ${dataSource}`, { dataSource }, err);
    }
    this.#put = this.#db.prepare(
      'INSERT INTO meta(key, type, value, resource_version) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT(key) DO UPDATE SET type = excluded.type, value = excluded.value, resource_version = excluded.resource_version',
    );
    this.#get = this.#db.prepare('SELECT key, type, value, resource_version FROM meta WHERE key = ?');
    this.#list = this.#db.prepare('SELECT key, type, value, resource_version FROM meta WHERE type = ? ORDER BY key');
    this.#del = this.#db.prepare('DELETE FROM meta WHERE key = ?');
  }

  /** A database written by KubeEdge itself (or an older kubeedge-ts) has no resource_version column yet. */
  #migrate(): void {
    const cols = this.#db.prepare('PRAGMA table_info(meta)').all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'resource_version')) {
      this.#db.exec("ALTER TABLE meta ADD COLUMN resource_version TEXT NOT NULL DEFAULT ''");
    }
  }

  get path(): string {
    return this.#path;
  }

  /**
   * Stores `value` (an object, or JSON text) under `key`. The resourceVersion defaults to the object's
   * `metadata.resourceVersion`. An older resourceVersion than the stored one is refused (`stale`), so a late
   * re-send from the cloud never rolls an object back.
   */
  put(key: string, type: string, value: unknown, resourceVersion?: string): PutResult {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    let rv = resourceVersion ?? '';
    if (rv === '') rv = resourceVersionOf(typeof value === 'string' ? safeParse(text) : value);
    return this.#write('put', key, () => {
      const cur = this.#get.get(key) as RawRow | undefined;
      if (cur !== undefined && rv !== '' && compareResourceVersions(rv, cur.resource_version) === -1) return 'stale';
      this.#put.run(key, type, text, rv);
      return 'stored';
    });
  }

  get(key: string): MetaRecord | undefined {
    const row = this.#get.get(key) as RawRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /** The stored object parsed, or undefined. */
  getObject(key: string): unknown {
    const r = this.get(key);
    return r === undefined ? undefined : safeParse(r.value);
  }

  listByType(type: string): MetaRecord[] {
    return (this.#list.all(type) as RawRow[]).map(toRecord);
  }

  /**
   * Removes `key`. With a resourceVersion, a stored object newer than it stays (`stale`): that is a
   * re-created object, and the delete was for its predecessor.
   */
  delete(key: string, resourceVersion?: string): DeleteResult {
    return this.#write('delete', key, () => {
      const cur = this.#get.get(key) as RawRow | undefined;
      if (cur === undefined) return 'absent';
      const rv = resourceVersion ?? '';
      if (rv !== '' && compareResourceVersions(rv, cur.resource_version) === -1) return 'stale';
      this.#del.run(key);
      return 'deleted';
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /**
   * Copies the committed write from the WAL into the database file before the caller acks it. A commit alone sits
   * in the WAL's tail until SQLite's auto-checkpoint (1000 pages later); a torn or rotten tail (a crash mid-sector,
   * a bad block) makes SQLite drop those frames silently on the next open, so the edge would roll back to an
   * older object that the cloud believes acked and never resends. After the checkpoint the tail holds only copies.
   * A checkpoint that could not finish throws: the write is then not acked, and the cloud's resend repeats it.
   */
  #checkpoint(): void {
    if (this.#path === ':memory:') return;
    const r = this.#db.prepare('PRAGMA wal_checkpoint(FULL)').get() as { busy: number; log: number; checkpointed: number } | undefined;
    if (r !== undefined && (r.busy !== 0 || r.checkpointed < r.log)) {
      throw new Error(`WAL checkpoint incomplete (busy ${r.busy}, ${r.checkpointed} of ${r.log} frames)`);
    }
  }

  /** Read-compare-write in one immediate transaction so two writers cannot interleave between check and write. */
  #write<T>(operation: 'put' | 'delete', key: string, fn: () => T): T {
    const end = edgeMetrics.sqliteWrites.startTimer({ operation });
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      let r: T;
      try {
        r = fn();
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
      // After the commit: a checkpoint that cannot finish fails the write (not acked), with nothing to roll back.
      this.#checkpoint();
      return r;
    } catch (err) {
      throw new MetaStoreError(`write of ${key} failed`, { key, dataSource: this.#path }, err);
    } finally {
      end();
    }
  }
}

type RawRow = { key: string; type: string; value: string; resource_version: string };

function toRecord(r: RawRow): MetaRecord {
  return { key: r.key, type: r.type, value: r.value, resourceVersion: r.resource_version };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
