import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The real kubectl: $KUBECTL, then PATH. In CI (`CI=true`) a missing kubectl fails the test instead of
 * skipping it, so a broken install step can never pass unnoticed.
 */
export function kubectlPath(): string | undefined {
  const fromEnv = process.env['KUBECTL'];
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return found !== '' ? found : undefined;
}

export { skipUnless } from './skip.ts';

let cacheDir: string | undefined;
/**
 * The environment to run kubectl in: its discovery and HTTP cache (by default ~/.kube/cache, keyed by host:port,
 * so a stale one from another run or another API server could answer) goes to $KUBECACHEDIR when the run set one
 * (scripts/test.ts does), else to a temp dir of this test process; never into the user's home.
 */
export function kubectlEnv(): NodeJS.ProcessEnv {
  if (process.env['KUBECACHEDIR'] !== undefined) return process.env;
  if (cacheDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ke-kubectl-cache-'));
    cacheDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return { ...process.env, KUBECACHEDIR: cacheDir };
}

export async function kubectl(kubeconfig: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const bin = kubectlPath();
  if (bin === undefined) throw new Error('kubectl not found');
  const { stdout } = await run(bin, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20, env: kubectlEnv() });
  return stdout;
}

/** Polls `probe` until it returns a truthy value or the deadline passes; returns the last value. */
export async function waitFor<T>(probe: () => Promise<T>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms (last value ${JSON.stringify(last)}${lastErr ? `, last error ${String(lastErr)}` : ''})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The port a daemon would get binding `port` on all addresses (0: one the OS picks now), or undefined when this
 * host has it taken: fixed ports collide with a demo left running or a parallel test run.
 */
export function bindablePort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      const got = (srv.address() as { port: number }).port;
      srv.close(() => resolve(got));
    });
  });
}
