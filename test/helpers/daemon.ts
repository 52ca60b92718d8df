import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export type Daemon = {
  proc: ChildProcess;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
};

/**
 * Starts one of our binaries from the sources with the pinned Node (the one running the tests), output to a
 * log file that a failing test can print.
 */
export function startDaemon(bin: 'cloudcore' | 'edgecore' | 'keadm', args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): Daemon {
  return spawnDaemon(process.execPath, [path.join(ROOT, 'src/cmd', `${bin}.ts`), ...args], logFile, { ...process.env, LOG_LEVEL: 'debug', ...env });
}

/** Any long-running command (e.g. a daemon wrapped in `unshare`) as a Daemon, output to `logFile`. */
export function spawnDaemon(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Daemon {
  const out = createWriteStream(logFile, { flags: 'a' });
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return {
    proc,
    logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a binary to completion and returns its exit code and output. */
export async function runBin(
  bin: 'cloudcore' | 'edgecore' | 'keadm',
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'src/cmd', `${bin}.ts`), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
