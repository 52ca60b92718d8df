// Usage of a running container seen two ways: its processes from the host (/proc of the container's init, tini,
// and its descendants) and the engine's own accounting (the stats endpoint `docker stats` reads).
import { readdirSync, readFileSync } from 'node:fs';
import type { DockerClient } from '../../src/containers/index.ts';
import { sleep } from './pool.ts';
import { sampleProc, type ProcSample } from './proc.ts';

/** Parent pid of a process from /proc/<pid>/stat; undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Anonymous (heap, stacks) and file-backed (the node binary, the bundle) parts of a process's RSS, bytes. */
function rssParts(pid: number): { anon: number; file: number } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? Number.NaN) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** `root` and every process below it (one scan of /proc). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * The memory figure `docker stats` prints: the cgroup's usage less inactive page cache (`total_inactive_file` on
 * cgroup v1, `inactive_file` on v2), as the Docker CLI computes it since 20.10.
 */
export function dockerStatsMemBytes(stats: Record<string, unknown>): number | undefined {
  const mem = stats['memory_stats'] as { usage?: number; stats?: Record<string, number> } | undefined;
  if (mem?.usage === undefined) return undefined;
  const v1 = mem.stats?.['total_inactive_file'];
  if (v1 !== undefined && v1 < mem.usage) return mem.usage - v1;
  const v2 = mem.stats?.['inactive_file'];
  if (v2 !== undefined && v2 < mem.usage) return mem.usage - v2;
  return mem.usage;
}

function cpuNs(stats: Record<string, unknown>): number | undefined {
  return (stats['cpu_stats'] as { cpu_usage?: { total_usage?: number } } | undefined)?.cpu_usage?.total_usage;
}

export type ContainerUsage = {
  windowMs: number;
  /** VmRSS of the container's node process (the daemon), MiB: maximum, mean and minimum over the samples. */
  rssMiBMax: number;
  rssMiBMean: number;
  rssMiBMin: number;
  /** The node process's RSS split, at the sample with the largest RSS: anonymous (heap) and file-backed (binary). */
  rssAnonMiB: number;
  rssFileMiB: number;
  /** The same for every process of the container (tini + node). */
  allProcsRssMiBMax: number;
  /** `docker stats` memory (cgroup usage less inactive file cache), MiB. */
  dockerStatsMiBMax: number;
  dockerStatsMiBMean: number;
  /** CPU % of one core of the container's processes over the window (utime + stime from /proc). */
  cpuPct: number;
  /** The engine's CPU accounting for the cgroup over the first to last stats reading, % of one core. */
  dockerCpuPct: number;
  nodePid: number;
  procSamples: number;
  statsSamples: number;
};

const MiB = 2 ** 20;

/**
 * Samples a running container for `windowMs`: /proc of its processes every `procEveryMs`, the engine's stats
 * endpoint back to back every `statsEveryMs` (each reading itself waits ~1 s for a second cgroup reading).
 */
export async function measureContainer(
  docker: DockerClient,
  id: string,
  o: { windowMs: number; procEveryMs?: number; statsEveryMs?: number },
): Promise<ContainerUsage> {
  const procEvery = o.procEveryMs ?? 1000;
  const statsEvery = o.statsEveryMs ?? 5000;
  const init = (await docker.inspectContainer(id)).State.Pid;
  if (!(init > 0)) throw new Error(`container ${id} is not running`);
  const tree = () => processTree(init);
  // The daemon: the process running a bundle (a process title would change comm, not the command line).
  const node = tree().find((p) => p !== init && cmdlineOf(p).some((a) => a.endsWith('.mjs')));
  if (node === undefined) throw new Error(`no node process in container ${id} (init pid ${init})`);

  const cpuOf = (pids: number[]) => {
    const s = pids.map(sampleProc).filter((x): x is ProcSample => x !== undefined);
    return { at: performance.now(), cpuSec: s.reduce((a, b) => a + b.cpuSec, 0), rss: s.reduce((a, b) => a + b.rssBytes, 0) };
  };
  const first = cpuOf(tree());
  const nodeRss: number[] = [];
  let parts = { anon: Number.NaN, file: Number.NaN };
  const allRss: number[] = [];
  let last = first;
  const end = first.at + o.windowMs;

  const statsMem: number[] = [];
  const statsCpu: Array<{ at: number; ns: number }> = [];
  const statsLoop = (async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const s = await docker.containerStats(id).catch(() => undefined);
      if (s !== undefined) {
        const m = dockerStatsMemBytes(s);
        if (m !== undefined) statsMem.push(m);
        const c = cpuNs(s);
        if (c !== undefined) statsCpu.push({ at: performance.now(), ns: c });
      }
      const rest = Math.min(statsEvery - (performance.now() - t), end - performance.now());
      if (rest > 0) await sleep(rest);
    }
  })();

  while (performance.now() < end) {
    await sleep(Math.min(procEvery, Math.max(1, end - performance.now())));
    const n = sampleProc(node);
    if (n === undefined) throw new Error(`the node process of container ${id} exited during the window`);
    if (nodeRss.length === 0 || n.rssBytes > Math.max(...nodeRss)) parts = rssParts(node) ?? parts;
    nodeRss.push(n.rssBytes);
    last = cpuOf(tree());
    allRss.push(last.rss);
  }
  await statsLoop;
  const wall = (last.at - first.at) / 1000;
  const mean = (v: number[]) => (v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);
  const max = (v: number[]) => (v.length > 0 ? Math.max(...v) : Number.NaN);
  const c0 = statsCpu[0];
  const c1 = statsCpu[statsCpu.length - 1];
  return {
    windowMs: Math.round(last.at - first.at),
    rssMiBMax: max(nodeRss) / MiB,
    rssMiBMean: mean(nodeRss) / MiB,
    rssMiBMin: (nodeRss.length > 0 ? Math.min(...nodeRss) : Number.NaN) / MiB,
    rssAnonMiB: parts.anon / MiB,
    rssFileMiB: parts.file / MiB,
    allProcsRssMiBMax: max(allRss) / MiB,
    dockerStatsMiBMax: max(statsMem) / MiB,
    dockerStatsMiBMean: mean(statsMem) / MiB,
    cpuPct: wall > 0 ? ((last.cpuSec - first.cpuSec) / wall) * 100 : Number.NaN,
    dockerCpuPct: c0 !== undefined && c1 !== undefined && c1.at > c0.at ? ((c1.ns - c0.ns) / 1e9 / ((c1.at - c0.at) / 1000)) * 100 : Number.NaN,
    nodePid: node,
    procSamples: nodeRss.length,
    statsSamples: statsMem.length,
  };
}
