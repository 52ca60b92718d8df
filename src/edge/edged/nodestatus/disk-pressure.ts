import { statfsSync } from 'node:fs';
import type { Logger } from '../../../core/log.ts';
import { parseQuantity } from '../pods/container-spec.ts';

/** The filesystem signals of the kubelet's eviction thresholds that mean disk pressure. */
const DISK_SIGNALS = ['nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree'] as const;
type DiskSignal = (typeof DISK_SIGNALS)[number];

/** `10%` (of capacity) or an absolute quantity (`1Gi` bytes, `1000` inodes). */
type Threshold = { signal: DiskSignal; percent?: number; absolute?: number; raw: string };

export type FsUsage = { bytesFree: number; bytesTotal: number; inodesFree: number; inodesTotal: number };
/** statfs of a path; undefined when it cannot be read (a path that does not exist yet has no pressure). */
export type StatFs = (path: string) => FsUsage | undefined;

export const statfsUsage: StatFs = (path) => {
  try {
    const s = statfsSync(path);
    // bavail, not bfree: what an unprivileged writer (the pods) can still use, as cadvisor's "available".
    return { bytesFree: s.bavail * s.bsize, bytesTotal: s.blocks * s.bsize, inodesFree: s.ffree, inodesTotal: s.files };
  } catch {
    return undefined;
  }
};

/**
 * Parses the disk signals out of `evictionHard` (memory and pid signals are not disk pressure). A value the
 * kubelet would not accept is skipped: the config loader already validated types, not quantities.
 */
export function diskThresholds(evictionHard: Readonly<Record<string, string>>): Threshold[] {
  const out: Threshold[] = [];
  for (const signal of DISK_SIGNALS) {
    const raw = evictionHard[signal];
    if (raw === undefined || raw === '') continue;
    const v = raw.trim();
    if (v.endsWith('%')) {
      const p = Number(v.slice(0, -1));
      if (Number.isFinite(p) && p >= 0 && p <= 100) out.push({ signal, percent: p, raw });
      continue;
    }
    try {
      const n = parseQuantity(v);
      if (n >= 0) out.push({ signal, absolute: n, raw });
    } catch {
      // not a quantity: the kubelet refuses such a threshold; here it is ignored rather than stopping edged
    }
  }
  return out;
}

/** Which thresholds a filesystem crosses (`nodefs.available<10%` style strings, as the kubelet words them). */
export function crossedThresholds(usage: FsUsage, thresholds: readonly Threshold[]): string[] {
  const crossed: string[] = [];
  for (const t of thresholds) {
    const inodes = t.signal.endsWith('inodesFree');
    // A filesystem without inode accounting (some tmpfs, btrfs) reports 0 inodes: no inode pressure there.
    if (inodes && usage.inodesTotal === 0) continue;
    const free = inodes ? usage.inodesFree : usage.bytesFree;
    const total = inodes ? usage.inodesTotal : usage.bytesTotal;
    const limit = t.percent !== undefined ? (total * t.percent) / 100 : (t.absolute ?? 0);
    if (free < limit) crossed.push(`${t.signal}<${t.raw}`);
  }
  return crossed;
}

export type DiskPressureOptions = {
  /** Filesystems that hold the node's data: the edge's database directory, the pod and volume root. */
  paths: readonly string[];
  evictionHard: Readonly<Record<string, string>>;
  /** kubelet's evictionPressureTransitionPeriod: how long pressure stays reported after it clears. */
  transitionPeriodMs: number;
  log: Logger;
  statfs?: StatFs;
  now?: () => number;
};

export type DiskPressureState = { pressure: boolean; crossed: string[] };

/**
 * The DiskPressure condition from the real filesystems, as the kubelet's eviction manager decides it: True as soon
 * as a path crosses a disk threshold, False again once no threshold has been crossed for the transition period
 * (so a disk hovering at the limit does not flap). Transitions are logged. It evicts nothing: running pods stay.
 */
export class DiskPressureMonitor {
  readonly #o: DiskPressureOptions;
  readonly #thresholds: Threshold[];
  readonly #statfs: StatFs;
  readonly #now: () => number;
  #pressure = false;
  #lastCrossedAt = Number.NEGATIVE_INFINITY;

  constructor(o: DiskPressureOptions) {
    this.#o = o;
    this.#thresholds = diskThresholds(o.evictionHard);
    this.#statfs = o.statfs ?? statfsUsage;
    this.#now = o.now ?? Date.now;
  }

  check(): DiskPressureState {
    const crossed: string[] = [];
    for (const p of new Set(this.#o.paths)) {
      const u = this.#statfs(p);
      if (u === undefined) continue;
      for (const c of crossedThresholds(u, this.#thresholds)) crossed.push(`${c} at ${p}`);
    }
    const now = this.#now();
    if (crossed.length > 0) this.#lastCrossedAt = now;
    const pressure = crossed.length > 0 || now - this.#lastCrossedAt < this.#o.transitionPeriodMs;
    if (pressure !== this.#pressure) {
      if (pressure) this.#o.log.warn({ crossed }, 'node has disk pressure (DiskPressure=True); running pods are kept');
      else this.#o.log.info({ paths: this.#o.paths }, 'disk pressure is over (DiskPressure=False)');
      this.#pressure = pressure;
    }
    return { pressure, crossed };
  }
}
