import type { ContainerReading } from './types.ts';

type CpuStats = { cpu_usage?: { total_usage?: number } };
/** The part of Docker's `GET /containers/{id}/stats?stream=false` answer we read. */
export type DockerStatsJson = {
  read?: string;
  preread?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; stats?: Record<string, number> };
};

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * One reading from Docker's stats. Working set as the kubelet computes it: usage minus inactive file pages
 * (`inactive_file` on cgroup v2, `total_inactive_file` on v1), never below zero. Docker's one-shot answer also
 * carries the previous reading (`precpu_stats`, about a second before), which gives a first CPU rate.
 */
export function parseDockerStats(id: string, s: DockerStatsJson | null | undefined): ContainerReading | undefined {
  // A container removed while its stats were asked for can get an empty answer (seen under chaos: no body at all).
  if (typeof s !== 'object' || s === null || typeof s.read !== 'string' || typeof s.cpu_stats !== 'object' || s.cpu_stats === null) return undefined;
  const at = Date.parse(s.read);
  if (!Number.isFinite(at)) return undefined;
  const usage = num(s.memory_stats?.usage);
  const st = s.memory_stats?.stats ?? {};
  const inactive = num(st['inactive_file'] ?? st['total_inactive_file']);
  const rss = st['anon'] ?? st['total_rss'] ?? st['rss'];
  const total = num(s.cpu_stats.cpu_usage?.total_usage);
  const r: ContainerReading = { id, usageCoreNanoSeconds: total, workingSetBytes: Math.max(0, usage - inactive), usageBytes: usage, at };
  if (rss !== undefined) r.rssBytes = num(rss);
  const pre = num(s.precpu_stats?.cpu_usage?.total_usage);
  const preAt = s.preread === undefined ? Number.NaN : Date.parse(s.preread);
  if (pre > 0 && Number.isFinite(preAt) && at > preAt && total >= pre) r.usageNanoCores = Math.round(((total - pre) / (at - preAt)) * 1e3);
  return r;
}

/** ns of CPU per second between two cumulative readings; undefined when they do not make a forward pair. */
export function rateNanoCores(prevNs: number, prevAt: number, nowNs: number, nowAt: number): number | undefined {
  if (nowAt <= prevAt || nowNs < prevNs) return undefined;
  return Math.round(((nowNs - prevNs) / (nowAt - prevAt)) * 1e3);
}
