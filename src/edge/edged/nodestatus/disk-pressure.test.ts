import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { logger } from '../../../core/log.ts';
import { crossedThresholds, DiskPressureMonitor, diskThresholds, statfsUsage, type FsUsage } from './disk-pressure.ts';
import { nodeStatusPatch } from './node-object.ts';
import { collectHostInfo } from './host-info.ts';

const log = logger('disk-pressure-test');
log.level = 'silent';
const GiB = 2 ** 30;
const fs = (bytesFree: number, inodesFree = 1000): FsUsage => ({ bytesFree, bytesTotal: 10 * GiB, inodesFree, inodesTotal: 1000 });

test('kubelet eviction thresholds: percentages and quantities of the disk signals, memory ignored, nonsense skipped', () => {
  const t = diskThresholds({ 'nodefs.available': '10%', 'imagefs.available': '2Gi', 'memory.available': '100Mi', 'nodefs.inodesFree': 'lots' });
  assert.deepEqual(
    t.map((x) => x.signal),
    ['nodefs.available', 'imagefs.available'],
  );
  assert.deepEqual(crossedThresholds(fs(5 * GiB), t), []);
  assert.deepEqual(crossedThresholds(fs(1.5 * GiB), t), ['imagefs.available<2Gi']);
  assert.deepEqual(crossedThresholds(fs(0.5 * GiB), t), ['nodefs.available<10%', 'imagefs.available<2Gi']);
  const inodes = diskThresholds({ 'nodefs.inodesFree': '5%' });
  assert.deepEqual(crossedThresholds(fs(5 * GiB, 10), inodes), ['nodefs.inodesFree<5%']);
  assert.deepEqual(crossedThresholds({ ...fs(5 * GiB, 0), inodesTotal: 0 }, inodes), [], 'no inode accounting, no inode pressure');
});

test('DiskPressure goes True at once and back to False only after the transition period', () => {
  let now = 0;
  let free = 5 * GiB;
  const m = new DiskPressureMonitor({
    paths: ['/data', '/pods'],
    evictionHard: { 'nodefs.available': '10%' },
    transitionPeriodMs: 60_000,
    log,
    statfs: (p) => (p === '/pods' ? fs(free) : fs(5 * GiB)),
    now: () => now,
  });
  assert.equal(m.check().pressure, false);
  free = 0;
  const hit = m.check();
  assert.equal(hit.pressure, true);
  assert.deepEqual(hit.crossed, ['nodefs.available<10% at /pods']);
  free = 5 * GiB;
  now = 30_000;
  assert.equal(m.check().pressure, true, 'held for the transition period');
  now = 61_000;
  assert.equal(m.check().pressure, false);
});

test('statfs of a real directory, and of one that does not exist', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-statfs-'));
  try {
    const u = statfsUsage(dir);
    assert.ok(u !== undefined && u.bytesTotal > 0 && u.bytesFree <= u.bytesTotal);
    assert.equal(statfsUsage(path.join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the status patch carries DiskPressure True with its own transition time', () => {
  const h = collectHostInfo({ nodeName: 'n', nodeIP: '10.0.0.9', maxPods: 110, containerRuntimeVersion: 'x', kubeletVersion: 'v' });
  const p = JSON.parse(nodeStatusPatch(h, '2026-11-29T23:12:21Z', '2026-11-29T23:08:27Z', { diskPressure: { status: true, since: '2026-11-29T23:10:00Z' } }));
  const disk = p.status.conditions.find((c: { type: string }) => c.type === 'DiskPressure');
  assert.deepEqual(disk, {
    lastHeartbeatTime: '2026-11-29T23:12:21Z',
    lastTransitionTime: '2026-11-29T23:10:00Z',
    message: 'kubelet has disk pressure',
    reason: 'KubeletHasDiskPressure',
    status: 'True',
    type: 'DiskPressure',
  });
  assert.equal(p.status.conditions.find((c: { type: string }) => c.type === 'Ready').lastTransitionTime, '2026-11-29T23:08:27Z');
});
