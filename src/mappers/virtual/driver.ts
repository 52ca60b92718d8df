/**
 * The `virtual` protocol: simulated properties for demos and tests. A visitor's configData picks a generator:
 * `{generator: random, min, max}` (a reading in [min, max], from a generator seeded by the protocol's `seed`, so a
 * seed gives the same series every run) or `{generator: register, initial}` (a stored value that desired writes set).
 */
import { configError } from '../lib/errors.ts';
import type { DeviceConnection, Driver, MapperDevice, MapperProperty, Value } from '../lib/types.ts';

/** mulberry32: a small, well-known 32-bit PRNG; plenty for simulated readings. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const num = (v: unknown, d: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : d;

export class VirtualConnection implements DeviceConnection {
  readonly #random: () => number;
  readonly #registers = new Map<string, Value>();

  constructor(d: MapperDevice) {
    this.#random = seededRandom(num(d.protocolConfig['seed'], Date.now() & 0xffffffff));
  }

  async read(p: MapperProperty): Promise<Value> {
    const g = p.visitor['generator'];
    if (g === 'random') {
      const min = num(p.visitor['min'], p.minimum ?? 0);
      const max = num(p.visitor['max'], p.maximum ?? 100);
      if (max < min) throw configError(`property ${p.name}: max ${max} is below min ${min}`);
      const r = this.#random();
      if (p.type !== 'int') return min + r * (max - min);
      // an int property draws whole numbers from the whole range, both ends included
      const lo = Math.ceil(min);
      const hi = Math.floor(max);
      return Math.min(hi, lo + Math.floor(r * (hi - lo + 1)));
    }
    if (g === 'register') {
      const v = this.#registers.get(p.name);
      if (v !== undefined) return v;
      const initial = p.visitor['initial'];
      return typeof initial === 'number' || typeof initial === 'boolean' || typeof initial === 'string' ? initial : 0;
    }
    throw configError(`property ${p.name}: visitor generator must be random or register, got ${JSON.stringify(g)}`);
  }

  async write(p: MapperProperty, value: string): Promise<void> {
    if (p.visitor['generator'] !== 'register') throw configError(`property ${p.name} is not a register: it cannot be written`);
    const n = Number(value);
    this.#registers.set(p.name, p.type === 'string' || !Number.isFinite(n) ? value : n);
  }

  async close(): Promise<void> {}
}

export const virtualDriver: Driver = {
  protocol: 'virtual',
  open: async (d) => new VirtualConnection(d),
};
