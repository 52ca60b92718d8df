import { createHash } from 'node:crypto';
import { KubeEdgeError } from '../../core/errors.ts';

/** `a.b.c.d` → 32-bit unsigned integer; undefined for anything that is not a dotted IPv4 address. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export type Cidr = { base: number; bits: number; size: number };

export function parseCidr(cidr: string): Cidr | undefined {
  const [ip = '', bitsText = ''] = cidr.split('/');
  const base = ipv4ToInt(ip);
  const bits = Number(bitsText);
  if (base === undefined || !/^\d{1,2}$/.test(bitsText) || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), bits, size };
}

/**
 * Service addresses at the edge (`meshIP`), from `modules.edgeMesh.subNet`. The address of `<ns>/<name>` is a hash
 * of the name into the subnet, so every node (and every restart) gives a Service the same address without asking
 * anyone; a collision moves on to the next free address, and an address, once given, stays with its Service for
 * the life of the process (a client holding it keeps reaching the same Service).
 */
export class MeshIpam {
  readonly #net: Cidr;
  /** Usable addresses: the network and broadcast addresses are left out. */
  readonly #usable: number;
  readonly #byKey = new Map<string, number>();
  readonly #byIp = new Map<number, string>();

  constructor(subNet: string) {
    const net = parseCidr(subNet);
    if (net === undefined || net.size < 4) {
      throw new KubeEdgeError('KE_EDGEMESH_SUBNET', `modules.edgeMesh.subNet ${subNet} is not an IPv4 CIDR of /30 or wider`, { subNet });
    }
    this.#net = net;
    this.#usable = net.size - 2;
  }

  /** The address of Service `<ns>/<name>`, allocated on first use. Throws when the subnet is full. */
  allocate(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    const have = this.#byKey.get(key);
    if (have !== undefined) return intToIpv4(have);
    if (this.#byKey.size >= this.#usable) {
      throw new KubeEdgeError('KE_EDGEMESH_SUBNET_FULL', `modules.edgeMesh.subNet has no free address for service ${key}`, { key });
    }
    const start = createHash('sha256').update(key).digest().readUInt32BE(0) % this.#usable;
    for (let i = 0; i < this.#usable; i++) {
      const ip = this.#net.base + 1 + ((start + i) % this.#usable);
      if (!this.#byIp.has(ip)) {
        this.#byIp.set(ip, key);
        this.#byKey.set(key, ip);
        return intToIpv4(ip);
      }
    }
    throw new KubeEdgeError('KE_EDGEMESH_SUBNET_FULL', `modules.edgeMesh.subNet has no free address for service ${key}`, { key });
  }

  /** The Service holding `ip`, if any. */
  owner(ip: string): string | undefined {
    const n = ipv4ToInt(ip);
    return n === undefined ? undefined : this.#byIp.get(n);
  }

  contains(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n !== undefined && n >= this.#net.base && n < this.#net.base + this.#net.size;
  }
}
