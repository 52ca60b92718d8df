import type { ContainerReading } from './types.ts';

type U64 = { value?: string | number } | null | undefined;
/** The part of a CRI `ContainerStats` we read (proto-loader gives 64-bit numbers as strings). */
export type CriContainerStats = {
  attributes?: { id?: string } | null;
  cpu?: { timestamp?: string | number; usage_core_nano_seconds?: U64; usage_nano_cores?: U64 } | null;
  memory?: { working_set_bytes?: U64; usage_bytes?: U64; rss_bytes?: U64 } | null;
};

const u64 = (v: U64): number | undefined => {
  if (v === null || v === undefined || v.value === undefined) return undefined;
  const n = Number(v.value);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * One reading from CRI ListContainerStats. containerd computes `usage_nano_cores` itself between its own
 * readings; a runtime that leaves it out gets the rate from our previous sample. The reading's time is the CPU
 * timestamp (ns), or now.
 */
export function parseCriStats(s: CriContainerStats, now = Date.now()): ContainerReading | undefined {
  const id = s.attributes?.id;
  if (id === undefined || id === '' || s.cpu === null || s.cpu === undefined) return undefined;
  const ts = Number(s.cpu.timestamp ?? 0);
  const at = Number.isFinite(ts) && ts > 0 ? Math.round(ts / 1e6) : now;
  const r: ContainerReading = {
    id,
    usageCoreNanoSeconds: u64(s.cpu.usage_core_nano_seconds) ?? 0,
    workingSetBytes: u64(s.memory?.working_set_bytes) ?? 0,
    usageBytes: u64(s.memory?.usage_bytes) ?? u64(s.memory?.working_set_bytes) ?? 0,
    at,
  };
  const rate = u64(s.cpu.usage_nano_cores);
  if (rate !== undefined && rate > 0) r.usageNanoCores = rate;
  const rss = u64(s.memory?.rss_bytes);
  if (rss !== undefined) r.rssBytes = rss;
  return r;
}
