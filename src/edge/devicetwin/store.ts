import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { TwinStoreError } from './errors.ts';
import type { MsgAttr, MsgTwin, TwinDevice, TwinVersion } from './types.ts';

type DeviceRow = { id: string; name: string; description: string | null; state: string | null; last_online: string | null };
type AttrRow = { deviceid: string; name: string; value: string | null; optional: number | null; attr_type: string | null; metadata: string | null };
type TwinRow = {
  deviceid: string;
  name: string;
  expected: string | null;
  actual: string | null;
  expected_meta: string | null;
  actual_meta: string | null;
  expected_version: string | null;
  actual_version: string | null;
  optional: number | null;
  attr_type: string | null;
  metadata: string | null;
};

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS device (id TEXT NOT NULL PRIMARY KEY, name TEXT, description TEXT, state TEXT, last_online TEXT)',
  'CREATE TABLE IF NOT EXISTS device_attr (id INTEGER PRIMARY KEY AUTOINCREMENT, deviceid TEXT, name TEXT, description TEXT, value TEXT, optional INTEGER, attr_type TEXT, metadata TEXT)',
  'CREATE TABLE IF NOT EXISTS device_twin (id INTEGER PRIMARY KEY AUTOINCREMENT, deviceid TEXT, name TEXT, description TEXT, expected TEXT, actual TEXT, expected_meta TEXT, actual_meta TEXT, expected_version TEXT, actual_version TEXT, optional INTEGER, attr_type TEXT, metadata TEXT)',
  'CREATE INDEX IF NOT EXISTS device_twin_device ON device_twin(deviceid, name)',
  'CREATE INDEX IF NOT EXISTS device_attr_device ON device_attr(deviceid, name)',
  // ours: devices whose twin the cloud has not acknowledged yet, so that an edgecore restarted offline still sends them
  'CREATE TABLE IF NOT EXISTS twin_sync_pending (deviceid TEXT NOT NULL PRIMARY KEY)',
  // ours: the id the cloud named a device by when it is not `<ns>/<name>` (KubeEdge v1.15 uses the bare name)
  'CREATE TABLE IF NOT EXISTS twin_cloud_id (deviceid TEXT NOT NULL PRIMARY KEY, cloud_id TEXT NOT NULL)',
];

function parseJson<T>(text: string | null): T | undefined {
  if (text === null || text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function toTwin(r: TwinRow): MsgTwin {
  const t: MsgTwin = { optional: r.optional === null ? true : r.optional !== 0, metadata: { type: r.attr_type ?? 'string' } };
  if (r.expected !== null) {
    t.expected = { value: r.expected };
    const m = parseJson<{ timestamp?: number }>(r.expected_meta);
    if (m !== undefined) t.expected.metadata = m;
  }
  if (r.actual !== null) {
    t.actual = { value: r.actual };
    const m = parseJson<{ timestamp?: number }>(r.actual_meta);
    if (m !== undefined) t.actual.metadata = m;
  }
  const ev = parseJson<TwinVersion>(r.expected_version);
  if (ev !== undefined) t.expected_version = ev;
  const av = parseJson<TwinVersion>(r.actual_version);
  if (av !== undefined) t.actual_version = av;
  return t;
}

/**
 * KubeEdge's device tables in the edge database (the file MetaManager uses, opened on its own connection): every
 * change is one transaction, so a twin update that returned survives a crash.
 */
export class TwinStore {
  readonly #db: DatabaseSync;
  readonly #path: string;

  constructor(dataSource: string) {
    this.#path = dataSource;
    try {
      if (dataSource !== ':memory:') mkdirSync(dirname(dataSource), { recursive: true });
      this.#db = new DatabaseSync(dataSource);
      this.#db.exec('PRAGMA journal_mode=WAL');
      this.#db.exec('PRAGMA synchronous=FULL');
      this.#db.exec('PRAGMA busy_timeout=5000');
      for (const s of SCHEMA) this.#db.exec(s);
    } catch (err) {
      throw new TwinStoreError(`cannot open the device tables in ${dataSource}`, { dataSource }, err);
    }
  }

  /** Every device with its attributes and twins. */
  loadAll(): TwinDevice[] {
    const devices = this.#db.prepare('SELECT id, name, description, state, last_online FROM device ORDER BY id').all() as DeviceRow[];
    const attrs = this.#db.prepare('SELECT deviceid, name, value, optional, attr_type, metadata FROM device_attr').all() as AttrRow[];
    const twins = this.#db
      .prepare(
        'SELECT deviceid, name, expected, actual, expected_meta, actual_meta, expected_version, actual_version, optional, attr_type, metadata FROM device_twin',
      )
      .all() as TwinRow[];
    return devices.map((d) => {
      const dev: TwinDevice = { id: d.id, name: d.name, twin: {}, attributes: {} };
      if (d.description !== null && d.description !== '') dev.description = d.description;
      if (d.state !== null && d.state !== '') dev.state = d.state;
      if (d.last_online !== null && d.last_online !== '') dev.last_online = d.last_online;
      for (const a of attrs.filter((x) => x.deviceid === d.id)) {
        const attr: MsgAttr = { value: a.value ?? '', optional: a.optional === null ? true : a.optional !== 0, metadata: { type: a.attr_type ?? 'string' } };
        (dev.attributes as Record<string, MsgAttr>)[a.name] = attr;
      }
      for (const t of twins.filter((x) => x.deviceid === d.id)) (dev.twin as Record<string, MsgTwin>)[t.name] = toTwin(t);
      return dev;
    });
  }

  cloudIds(): Map<string, string> {
    const rows = this.#db.prepare('SELECT deviceid, cloud_id FROM twin_cloud_id').all() as Array<{ deviceid: string; cloud_id: string }>;
    return new Map(rows.map((r) => [r.deviceid, r.cloud_id]));
  }

  setCloudId(id: string, cloudId: string): void {
    this.#tx(id, () => {
      this.#db.prepare('INSERT OR REPLACE INTO twin_cloud_id (deviceid, cloud_id) VALUES (?, ?)').run(id, cloudId);
    });
  }

  pending(): string[] {
    return (this.#db.prepare('SELECT deviceid FROM twin_sync_pending ORDER BY deviceid').all() as Array<{ deviceid: string }>).map((r) => r.deviceid);
  }

  setPending(id: string, pending: boolean): void {
    this.#tx(id, () => {
      if (pending) this.#db.prepare('INSERT OR REPLACE INTO twin_sync_pending (deviceid) VALUES (?)').run(id);
      else this.#db.prepare('DELETE FROM twin_sync_pending WHERE deviceid = ?').run(id);
    });
  }

  /** Inserts or replaces the device row and its attributes (twins are written by {@link putTwins}). */
  putDevice(d: TwinDevice): void {
    this.#tx(d.id, () => {
      this.#db
        .prepare(
          'INSERT INTO device (id, name, description, state, last_online) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description, state = excluded.state, last_online = excluded.last_online',
        )
        .run(d.id, d.name, d.description ?? '', d.state ?? '', d.last_online ?? '');
      if (d.attributes !== undefined) {
        this.#db.prepare('DELETE FROM device_attr WHERE deviceid = ?').run(d.id);
        const ins = this.#db.prepare(
          'INSERT INTO device_attr (deviceid, name, description, value, optional, attr_type, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        for (const [name, a] of Object.entries(d.attributes)) ins.run(d.id, name, '', a.value, a.optional === false ? 0 : 1, a.metadata?.type ?? 'string', '');
      }
    });
  }

  /** Writes the named twins of a device (and its pending flag) in one transaction. */
  putTwins(id: string, twins: Readonly<Record<string, MsgTwin>>, names: readonly string[], pending: boolean): void {
    this.#tx(id, () => {
      const del = this.#db.prepare('DELETE FROM device_twin WHERE deviceid = ? AND name = ?');
      const ins = this.#db.prepare(
        'INSERT INTO device_twin (deviceid, name, description, expected, actual, expected_meta, actual_meta, expected_version, actual_version, optional, attr_type, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const name of names) {
        del.run(id, name);
        const t = twins[name];
        if (t === undefined) continue;
        ins.run(
          id,
          name,
          '',
          t.expected?.value ?? null,
          t.actual?.value ?? null,
          t.expected?.metadata === undefined ? null : JSON.stringify(t.expected.metadata),
          t.actual?.metadata === undefined ? null : JSON.stringify(t.actual.metadata),
          t.expected_version === undefined ? null : JSON.stringify(t.expected_version),
          t.actual_version === undefined ? null : JSON.stringify(t.actual_version),
          t.optional === false ? 0 : 1,
          t.metadata?.type ?? 'string',
          '',
        );
      }
      if (pending) this.#db.prepare('INSERT OR REPLACE INTO twin_sync_pending (deviceid) VALUES (?)').run(id);
    });
  }

  deleteDevice(id: string): void {
    this.#tx(id, () => {
      for (const t of ['device_twin', 'device_attr', 'twin_sync_pending', 'twin_cloud_id']) this.#db.prepare(`DELETE FROM ${t} WHERE deviceid = ?`).run(id);
      this.#db.prepare('DELETE FROM device WHERE id = ?').run(id);
    });
  }

  close(): void {
    this.#db.close();
  }

  #tx(id: string, fn: () => void): void {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        fn();
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      throw new TwinStoreError(`write of device ${id} failed`, { device: id, dataSource: this.#path }, err);
    }
  }
}
