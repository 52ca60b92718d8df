import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { compareResourceVersions, MetaStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'metastore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pod = (rv: string, image = 'nginx') => ({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'nginx', namespace: 'default', resourceVersion: rv },
  spec: { containers: [{ name: 'c', image }] },
});

describe('MetaStore (real SQLite file)', () => {
  test('put/get/listByType/delete round trip', () => {
    const s = new MetaStore(join(dir, 'crud', 'nested', 'edgecore.db'));
    assert.equal(s.put('default/pod/nginx', 'pod', pod('10')), 'stored');
    assert.equal(s.put('default/configmap/cm', 'configmap', '{"data":{"a":"b"}}'), 'stored');
    const r = s.get('default/pod/nginx');
    assert.equal(r?.type, 'pod');
    assert.equal(r?.resourceVersion, '10');
    assert.deepEqual(JSON.parse(r?.value ?? ''), pod('10'));
    assert.deepEqual(s.getObject('default/configmap/cm'), { data: { a: 'b' } });
    assert.deepEqual(
      s.listByType('pod').map((x) => x.key),
      ['default/pod/nginx'],
    );
    assert.equal(s.delete('default/pod/nginx'), 'deleted');
    assert.equal(s.get('default/pod/nginx'), undefined);
    assert.equal(s.delete('default/pod/nginx'), 'absent');
    s.close();
  });

  test('an older resourceVersion never overwrites a newer one (compared as unsigned integers)', () => {
    const s = new MetaStore(join(dir, 'rv.db'));
    assert.equal(s.put('default/pod/nginx', 'pod', pod('100', 'new')), 'stored');
    // "99" > "100" as strings; as integers it is older.
    assert.equal(s.put('default/pod/nginx', 'pod', pod('99', 'old')), 'stale');
    assert.equal((s.getObject('default/pod/nginx') as ReturnType<typeof pod>).spec.containers[0]?.image, 'new');
    assert.equal(s.put('default/pod/nginx', 'pod', pod('101', 'newer')), 'stored');
    assert.equal(s.get('default/pod/nginx')?.resourceVersion, '101');
    // explicit rv (from the message header) wins over the object's own
    assert.equal(s.put('default/pod/nginx', 'pod', pod('1'), '100'), 'stale');
    // a delete for an older incarnation leaves the newer object
    assert.equal(s.delete('default/pod/nginx', '50'), 'stale');
    assert.ok(s.get('default/pod/nginx'));
    assert.equal(s.delete('default/pod/nginx', '102'), 'deleted');
    s.close();
  });

  test('compareResourceVersions', () => {
    assert.equal(compareResourceVersions('99', '100'), -1);
    assert.equal(compareResourceVersions('18446744073709551616', '18446744073709551615'), 1);
    assert.equal(compareResourceVersions('7', '7'), 0);
    assert.equal(compareResourceVersions('abc', '7'), undefined);
  });

  test('data survives close and reopen', () => {
    const path = join(dir, 'persist.db');
    const s1 = new MetaStore(path);
    s1.put('default/secret/s', 'secret', { metadata: { name: 's', resourceVersion: '5' }, data: { p: 'eA==' } });
    s1.close();
    const s2 = new MetaStore(path);
    assert.deepEqual(s2.getObject('default/secret/s'), { metadata: { name: 's', resourceVersion: '5' }, data: { p: 'eA==' } });
    assert.equal(s2.get('default/secret/s')?.resourceVersion, '5');
    s2.close();
  });

  test('opens a KubeEdge-layout meta table that lacks the resource_version column', () => {
    const path = join(dir, 'legacy.db');
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, type TEXT, value TEXT)');
    db.prepare('INSERT INTO meta VALUES (?, ?, ?)').run('default/pod/old', 'pod', '{"metadata":{"name":"old"}}');
    db.close();
    const s = new MetaStore(path);
    assert.deepEqual(s.get('default/pod/old'), {
      key: 'default/pod/old',
      type: 'pod',
      value: '{"metadata":{"name":"old"}}',
      resourceVersion: '',
    });
    s.close();
  });

  test('an unusable path fails with a typed error naming the path', () => {
    assert.throws(
      () => new MetaStore('/dev/null/sub/edgecore.db'),
      (e: Error & { code?: string }) => e.code === 'KE_META_STORE' && e.message.includes('/dev/null/sub/edgecore.db'),
    );
  });

  test('an acked write survives a crash followed by a corrupted WAL tail', () => {
    const live = join(dir, 'wal-live');
    const s = new MetaStore(join(live, 'edgecore.db'));
    for (let i = 0; i < 5; i++) s.put(`ns/configmap/c${i}`, 'configmap', { metadata: { name: `c${i}`, resourceVersion: String(10 + i) } });
    assert.equal(s.put('ns/configmap/c4', 'configmap', { metadata: { name: 'c4', resourceVersion: '99' } }), 'stored');
    // kill -9: the files as they are on disk while the store is still open, then the last bytes of the WAL rot.
    const crashed = join(dir, 'wal-crashed');
    mkdirSync(crashed);
    copyFileSync(join(live, 'edgecore.db'), join(crashed, 'edgecore.db'));
    copyFileSync(join(live, 'edgecore.db-wal'), join(crashed, 'edgecore.db-wal'));
    const wal = join(crashed, 'edgecore.db-wal');
    const size = statSync(wal).size;
    assert.ok(size > 200, 'the WAL has frames to corrupt');
    const fd = openSync(wal, 'r+');
    writeSync(fd, Buffer.alloc(200, 0xab), 0, 200, size - 200);
    closeSync(fd);
    s.close();
    const reopened = new MetaStore(join(crashed, 'edgecore.db'));
    assert.equal(reopened.get('ns/configmap/c4')?.resourceVersion, '99');
    assert.equal(reopened.listByType('configmap').length, 5);
    reopened.close();
  });
});
