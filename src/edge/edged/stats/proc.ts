import { readFile, statfs } from 'node:fs/promises';
import type { NodeUsage } from './types.ts';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture Node runs on. */
const NS_PER_TICK = 1e7;

/** Cumulative busy CPU time of the node from /proc/stat's `cpu` line (everything but idle and iowait), in ns. */
export function parseProcStat(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) * NS_PER_TICK;
}

/** MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable') ?? kb('MemFree');
  if (total === undefined || available === undefined) return undefined;
  return { totalBytes: total, availableBytes: available };
}

/** The node's CPU and memory from /proc, and the filesystem holding `fsPath` (pods' root directory). */
export async function readNodeUsage(fsPath: string): Promise<NodeUsage> {
  const [stat, mem] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
  const cpu = parseProcStat(stat) ?? 0;
  const m = parseMeminfo(mem) ?? { totalBytes: 0, availableBytes: 0 };
  const used = m.totalBytes - m.availableBytes;
  const usage: NodeUsage = { usageCoreNanoSeconds: cpu, memoryWorkingSetBytes: used, memoryAvailableBytes: m.availableBytes, memoryUsageBytes: used };
  try {
    const s = await statfs(fsPath);
    usage.fs = {
      capacityBytes: s.blocks * s.bsize,
      availableBytes: s.bavail * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodes: s.files,
      inodesFree: s.ffree,
    };
  } catch {
    // the root directory may not exist before the first pod; the node's CPU and memory still count
  }
  return usage;
}
