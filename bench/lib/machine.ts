import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export type Machine = {
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  node: string;
  platform: string;
  kernel: string;
  openFilesLimit: { soft: string; hard: string };
};

/** Soft and hard RLIMIT_NOFILE of this process (children inherit them). */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: string; hard: string } {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const parts = line?.trim().split(/\s+/) ?? [];
    return { soft: parts[3] ?? '?', hard: parts[4] ?? '?' };
  } catch {
    return { soft: '?', hard: '?' };
  }
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    kernel: os.release(),
    openFilesLimit: openFilesLimit(),
  };
}

export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [a, b, c];
}

export function machineLine(m: Machine): string {
  return `${m.cores} cores (${m.cpuModel}), ${(m.memoryMiB / 1024).toFixed(1)} GiB RAM, Node ${m.node}, ${m.platform} kernel ${m.kernel}, ulimit -n ${m.openFilesLimit.soft}/${m.openFilesLimit.hard}`;
}

/** Clock ticks per second for /proc/<pid>/stat CPU times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
