import { execFile } from 'node:child_process';

export type ShResult = { code: number; stdout: string; stderr: string };

/** Runs a command to completion; never throws (the caller decides what a non-zero exit means). */
export function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<ShResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** As {@link sh}, but a non-zero exit is an error naming the command and its stderr. */
export async function shOk(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await sh(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
