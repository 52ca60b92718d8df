import { readdirSync, readFileSync } from 'node:fs';
import { CLK_TCK } from './machine.ts';

export type ProcSample = { at: number; rssBytes: number; cpuSec: number; fds: number; threads: number };

/** RSS, user+system CPU seconds, open file descriptors and threads of a process, from /proc. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const threads = Number(rest[17]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let fds = -1;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      /* not ours to read */
    }
    return { at: performance.now(), rssBytes: rssKb * 1024, cpuSec: (utime + stime) / CLK_TCK, fds, threads };
  } catch {
    return undefined;
  }
}

export type Usage = { rssMiB: number; rssPeakMiB: number; cpuPercent: number; fds: number; windowSec: number; samples: number };

/** CPU percent of one core between two samples. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? ((b.cpuSec - a.cpuSec) / wall) * 100 : Number.NaN;
}

/**
 * Samples a process every `everyMs` for `windowMs`: CPU over the whole window, RSS at the end and the peak.
 * Resolves undefined if the process is gone.
 */
export async function measureUsage(pid: number, windowMs: number, everyMs = 500): Promise<Usage | undefined> {
  const first = sampleProc(pid);
  if (first === undefined) return undefined;
  let last = first;
  let peak = first.rssBytes;
  let n = 1;
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(1, end - performance.now()))));
    const s = sampleProc(pid);
    if (s === undefined) return undefined;
    last = s;
    peak = Math.max(peak, s.rssBytes);
    n++;
  }
  return {
    rssMiB: last.rssBytes / 2 ** 20,
    rssPeakMiB: peak / 2 ** 20,
    cpuPercent: cpuPercent(first, last),
    fds: last.fds,
    windowSec: (last.at - first.at) / 1000,
    samples: n,
  };
}
