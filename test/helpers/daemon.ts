import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { TestContext } from 'node:test';

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

export type RunResult = { code: number | null; stdout: string; stderr: string };

/** Runs a binary to completion and returns its exit code and output. */
export function runBin(bin: 'cloudcore' | 'edgecore' | 'keadm', args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runCommand(process.execPath, [path.join(ROOT, 'src/cmd', `${bin}.ts`), ...args], { ...process.env, ...env });
}

/** Any command (e.g. a binary wrapped in `unshare`) run to completion from the checkout, as {@link runBin}. */
export async function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * For an e2e test: when it ends without calling the returned `passed()`, the last `lines` lines of each log file
 * go to stderr (a log not written yet is skipped), so a failure shows what the daemons said.
 */
export function tailLogsOnFailure(t: TestContext, logFiles: string[], lines = 60): () => void {
  let passed = false;
  t.after(() => {
    if (passed) return;
    for (const f of logFiles) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      process.stderr.write(`--- ${path.basename(f)} (tail)\n${text.split('\n').slice(-lines).join('\n')}\n`);
    }
  });
  return () => {
    passed = true;
  };
}
