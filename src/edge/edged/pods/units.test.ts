import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';
import { parseQuantity } from './container-spec.ts';
import { expand } from './env.ts';
import { containerHash } from './labels.ts';
import { writeConfigVolume } from './volumes.ts';

test('parseQuantity understands Kubernetes quantities', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity('64Mi'), 64 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.throws(() => parseQuantity('lots'), /invalid resource quantity/);
});

test('$(VAR) expansion: known names, $$ escape, unknown left alone', () => {
  const vars = new Map([['A', 'x']]);
  assert.equal(expand('$(A)-$(B)-$$(A)', vars), 'x-$(B)-$(A)');
});

test('back-off: first restart immediate, then doubling to the cap, reset after a quiet period', () => {
  const b = new Backoff(10, 40);
  assert.equal(b.nextAllowedAt(1000), 0);
  b.attempted(1000);
  assert.equal(b.nextAllowedAt(1001), 1010);
  b.attempted(1010);
  assert.equal(b.nextAllowedAt(1011), 1030);
  b.attempted(1030);
  b.attempted(1070);
  b.attempted(1110);
  assert.equal(b.currentDelayMs, 40);
  assert.equal(b.nextAllowedAt(1110 + 81), 0, 'reset after 2x the cap');
});

test('container hash ignores key order', () => {
  assert.equal(containerHash({ name: 'a', image: 'b' }), containerHash({ image: 'b', name: 'a' }));
  assert.notEqual(containerHash({ name: 'a', image: 'b' }), containerHash({ name: 'a', image: 'c' }));
});

test('config volumes: items, modes, removal of dropped keys, and no escape from the volume dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ke-vol-'));
  try {
    const cm = (data: Record<string, string>) => ({ metadata: { name: 'cm' }, data });
    await writeConfigVolume(dir, cm({ a: '1', b: '2' }), false, undefined, 0o600);
    // what a reader sees: the keys (the `..data` machinery of the atomic writer aside)
    const visible = () => readdirSync(dir).filter((n) => !n.startsWith('..'));
    assert.deepEqual(visible().sort(), ['a', 'b']);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    await writeConfigVolume(dir, cm({ a: '3' }), false, undefined, 0o644);
    assert.deepEqual(visible(), ['a']);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), '3');
    await writeConfigVolume(dir, cm({ a: '4' }), false, [{ key: 'a', path: 'sub/x', mode: 0o444 }], 0o644);
    assert.equal(readFileSync(join(dir, 'sub/x'), 'utf8'), '4');
    assert.equal(statSync(join(dir, 'sub/x')).mode & 0o777, 0o444);
    await assert.rejects(writeConfigVolume(dir, cm({ a: '5' }), false, [{ key: 'a', path: '../../etc/evil' }], 0o644), /invalid volume item path/);
    await assert.rejects(writeConfigVolume(dir, cm({ a: '5' }), false, [{ key: 'missing', path: 'm' }], 0o644), /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
