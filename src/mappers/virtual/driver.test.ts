import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MapperDevice, MapperProperty } from '../lib/types.ts';
import { VirtualConnection } from './driver.ts';

const prop = (name: string, type: string, visitor: Record<string, unknown>): MapperProperty => ({
  name,
  type,
  accessMode: 'ReadWrite',
  visitor,
  desired: '',
  collectCycleMs: 1000,
  reportCycleMs: 1000,
  reportToCloud: true,
});
const device = (seed: number): MapperDevice => ({ name: 'd', model: 'm', protocol: 'virtual', protocolConfig: { seed }, properties: [] });

test('random readings stay in [min, max], int properties give whole numbers reaching both ends', async () => {
  const c = new VirtualConnection(device(7));
  const p = prop('t', 'int', { generator: 'random', min: 18, max: 25 });
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const v = (await c.read(p)) as number;
    assert.ok(Number.isInteger(v) && v >= 18 && v <= 25, `${v}`);
    seen.add(v);
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [18, 19, 20, 21, 22, 23, 24, 25],
  );
  const f = prop('f', 'float', { generator: 'random', min: -1.5, max: 1.5 });
  for (let i = 0; i < 100; i++) {
    const v = (await c.read(f)) as number;
    assert.ok(v >= -1.5 && v <= 1.5);
  }
});

test('the same seed gives the same series, another seed another', async () => {
  const p = prop('t', 'float', { generator: 'random', min: 0, max: 100 });
  const series = async (seed: number) => {
    const c = new VirtualConnection(device(seed));
    const out: number[] = [];
    for (let i = 0; i < 5; i++) out.push((await c.read(p)) as number);
    return out;
  };
  assert.deepEqual(await series(7), await series(7));
  assert.notDeepEqual(await series(7), await series(8));
});

test('a register starts at initial and holds what is written; a random property cannot be written', async () => {
  const c = new VirtualConnection(device(1));
  const r = prop('s', 'int', { generator: 'register', initial: 20 });
  assert.equal(await c.read(r), 20);
  await c.write(r, '26');
  assert.equal(await c.read(r), 26);
  await assert.rejects(c.write(prop('t', 'int', { generator: 'random', min: 0, max: 1 }), '1'), { code: 'KE_MAPPER_CONFIG' });
  await assert.rejects(c.read(prop('x', 'int', { generator: 'sine' })), { code: 'KE_MAPPER_CONFIG' });
  await assert.rejects(c.read(prop('x', 'int', { generator: 'random', min: 5, max: 1 })), /below/);
});
