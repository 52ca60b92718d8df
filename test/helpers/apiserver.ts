import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { logger } from '../../src/core/log.ts';
import { kubectlEnv, kubectlPath } from './tools.ts';

/** kubectl found as tools.ts finds it ($KUBECTL, then PATH); tests skip with skipUnless(kubectlPath() !== undefined). */
function kubectlBin(): string {
  const bin = kubectlPath();
  if (bin === undefined) throw new Error('kubectl not found');
  return bin;
}

export type TestServer = RunningApiServer & { dataDir: string; dir: string; restart(): Promise<TestServer>; cleanup(): Promise<void> };

/** A real API server on 127.0.0.1 with a port picked by the OS and its data in a fresh temp dir. */
export async function startTestServer(dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'))): Promise<TestServer> {
  const dataDir = join(dir, 'data');
  const log = logger('apiserver-test');
  log.level = 'warn';
  const s = await startApiServer({ address: '127.0.0.1', port: 0, dataDir, adminKubeConfig: join(dir, 'kube', 'admin.conf'), log });
  return {
    ...s,
    dataDir,
    dir,
    async restart() {
      await s.close();
      return startTestServer(dir);
    },
    async cleanup() {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function kubectl(s: RunningApiServer, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBin(), ['--kubeconfig', s.kubeConfigPath, ...args], { timeout: 30_000, env: kubectlEnv() }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Runs kubectl and fails with its stderr when it exits non-zero. */
export async function kubectlOk(s: RunningApiServer, args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(s, args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A long-running kubectl (e.g. `get -w`) whose output is collected until `stop()`. */
export function kubectlStream(
  s: RunningApiServer,
  args: string[],
): { child: ChildProcess; output: () => string; waitFor(re: RegExp, ms?: number): Promise<void>; stop(): void } {
  const child = spawn(kubectlBin(), ['--kubeconfig', s.kubeConfigPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: kubectlEnv() });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (re.test(out)) resolve();
          else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${re} in kubectl output:\n${out}`));
          else setTimeout(tick, 50);
        };
        tick();
      });
    },
    stop() {
      child.kill();
    },
  };
}

/** A raw HTTPS request trusting the server's CA; `token` undefined sends no Authorization. */
export function rawRequest(
  s: RunningApiServer,
  method: string,
  path: string,
  o: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, s.url);
    const req = request(
      url,
      {
        method,
        ca: s.caPem,
        headers: { ...(o.token === undefined ? {} : { Authorization: `Bearer ${o.token}` }), 'Content-Type': 'application/json', ...(o.headers ?? {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => reject(e));
    req.end(o.body);
  });
}
