import { configError } from '../lib/errors.ts';

/**
 * Modbus register words to property values and back, with the visitor options of KubeEdge's modbus mapper:
 * `limit` registers (1, 2 or 4) read as one big-endian signed integer, `isRegisterSwap` reverses the word order,
 * `isSwap` the two bytes inside each word, and `scale` multiplies the raw number (and divides a written value).
 */
export type RegisterKind = 'HoldingRegister' | 'CoilRegister' | 'InputRegister' | 'DiscreteInputRegister';
export const REGISTER_KINDS: readonly RegisterKind[] = ['HoldingRegister', 'CoilRegister', 'InputRegister', 'DiscreteInputRegister'];

export type ModbusVisitor = { register: RegisterKind; offset: number; limit: number; scale: number; isSwap: boolean; isRegisterSwap: boolean };

const int = (v: unknown, d: number): number => (typeof v === 'number' && Number.isInteger(v) ? v : d);

export function parseVisitor(name: string, c: Record<string, unknown>): ModbusVisitor {
  const register = c['register'];
  if (typeof register !== 'string' || !REGISTER_KINDS.includes(register as RegisterKind)) {
    throw configError(`property ${name}: visitors.configData.register must be one of ${REGISTER_KINDS.join(', ')}`);
  }
  const offset = int(c['offset'], -1);
  if (offset < 0 || offset > 65535) throw configError(`property ${name}: offset must be 0..65535`);
  const limit = int(c['limit'], 1);
  const bits = register === 'CoilRegister' || register === 'DiscreteInputRegister';
  if (bits ? limit !== 1 : ![1, 2, 4].includes(limit)) throw configError(`property ${name}: limit must be ${bits ? '1' : '1, 2 or 4'}`);
  const scale = typeof c['scale'] === 'number' && c['scale'] !== 0 ? c['scale'] : 1;
  return { register: register as RegisterKind, offset, limit, scale, isSwap: c['isSwap'] === true, isRegisterSwap: c['isRegisterSwap'] === true };
}

/** Register bytes as the device sent them (big-endian words) to the scaled value. */
export function decodeRegisters(v: ModbusVisitor, bytes: Uint8Array): number {
  const words: Uint8Array[] = [];
  for (let i = 0; i < v.limit; i++) {
    const w = bytes.slice(i * 2, i * 2 + 2);
    if (w.length < 2) throw configError(`expected ${v.limit} registers, got ${bytes.length} bytes`);
    words.push(v.isSwap ? Uint8Array.of(w[1] ?? 0, w[0] ?? 0) : w);
  }
  if (v.isRegisterSwap) words.reverse();
  const buf = Buffer.concat(words);
  const raw = v.limit === 1 ? buf.readInt16BE(0) : v.limit === 2 ? buf.readInt32BE(0) : Number(buf.readBigInt64BE(0));
  return Number((raw * v.scale).toFixed(10));
}

/** A value to the register words to write, the inverse of {@link decodeRegisters}. */
export function encodeRegisters(v: ModbusVisitor, value: number): number[] {
  const raw = Math.round(value / v.scale);
  const buf = Buffer.alloc(v.limit * 2);
  if (v.limit === 1) {
    if (raw < -32768 || raw > 65535) throw configError(`value ${value} does not fit one register`);
    if (raw < 0) buf.writeInt16BE(raw, 0);
    else buf.writeUInt16BE(raw, 0);
  } else if (v.limit === 2) buf.writeInt32BE(raw, 0);
  else buf.writeBigInt64BE(BigInt(raw), 0);
  const words: number[][] = [];
  for (let i = 0; i < v.limit; i++) {
    const hi = buf[i * 2] ?? 0;
    const lo = buf[i * 2 + 1] ?? 0;
    words.push(v.isSwap ? [lo, hi] : [hi, lo]);
  }
  if (v.isRegisterSwap) words.reverse();
  return words.map(([hi = 0, lo = 0]) => (hi << 8) | lo);
}
