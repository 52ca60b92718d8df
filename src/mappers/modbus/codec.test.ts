import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRegisters, encodeRegisters, parseVisitor } from './codec.ts';

const bytes = (...words: number[]) => Buffer.from(words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]));

test("KubeEdge's visitor keys: register, offset, limit, scale, isSwap, isRegisterSwap", () => {
  assert.deepEqual(parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 1, scale: 0.1 }), {
    register: 'HoldingRegister',
    offset: 0,
    limit: 1,
    scale: 0.1,
    isSwap: false,
    isRegisterSwap: false,
  });
  assert.throws(() => parseVisitor('t', { register: 'Holding', offset: 0 }), { code: 'KE_MAPPER_CONFIG' });
  assert.throws(() => parseVisitor('t', { register: 'HoldingRegister' }), /offset/);
  assert.throws(() => parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 3 }), /limit/);
  assert.throws(() => parseVisitor('t', { register: 'CoilRegister', offset: 0, limit: 2 }), /limit/);
});

test('one register, scaled; negative values are signed', () => {
  const v = parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 1, scale: 0.1 });
  assert.equal(decodeRegisters(v, bytes(215)), 21.5);
  assert.equal(decodeRegisters(v, bytes(0xffec)), -2);
  assert.deepEqual(encodeRegisters(v, 21.5), [215]);
  assert.deepEqual(encodeRegisters(v, -2), [0xffec]);
});

test('byte swap and word swap, and their inverse on write', () => {
  const plain = parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 2 });
  const wordSwap = parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 2, isRegisterSwap: true });
  const byteSwap = parseVisitor('t', { register: 'HoldingRegister', offset: 0, limit: 2, isSwap: true });
  assert.equal(decodeRegisters(plain, bytes(0x0001, 0x0002)), 0x00010002);
  assert.equal(decodeRegisters(wordSwap, bytes(0x0002, 0x0001)), 0x00010002);
  assert.equal(decodeRegisters(byteSwap, bytes(0x0100, 0x0200)), 0x00010002);
  for (const v of [plain, wordSwap, byteSwap]) {
    const w = encodeRegisters(v, 70000);
    assert.equal(decodeRegisters(v, bytes(...w)), 70000);
  }
});

test('a value that does not fit one register is refused', () => {
  const v = parseVisitor('t', { register: 'HoldingRegister', offset: 1, limit: 1 });
  assert.throws(() => encodeRegisters(v, 70000), { code: 'KE_MAPPER_CONFIG' });
});
