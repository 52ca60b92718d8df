/**
 * Test helpers for code that talks to a real containerd over CRI. Tests run their own containerd (own root, state,
 * socket and CNI config under a temp dir) so they never disturb the host's or dockerd's containerd. No registry is
 * reachable, so the test images built for Docker (helpers/docker.ts, with keadm's busybox image builder) are moved over with `docker save | ctr import`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, dockerAvailable, ensureTestImages } from './docker.ts';
import { skipUnless } from './skip.ts';
import { CriClient } from '../../src/containers/cri/index.ts';

const run = promisify(execFile);

export const CNI_BIN_DIR = process.env['CNI_BIN_DIR'] ?? '/usr/lib/cni';
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

function onPath(bin: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((d) => d !== '' && existsSync(join(d, bin)));
}

/** What is missing for CRI tests on this machine ('' when nothing). */
export function criPrerequisitesMissing(): string {
  const missing: string[] = [];
  for (const bin of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2']) if (!onPath(bin)) missing.push(bin);
  for (const p of CNI_PLUGINS) if (!existsSync(join(CNI_BIN_DIR, p))) missing.push(`${CNI_BIN_DIR}/${p}`);
  return missing.length ? `missing ${missing.join(', ')} (apt-get install containerd runc containernetworking-plugins)` : '';
}

/** For `describe(name, { skip: await criSkip() }, ...)`: missing prerequisites fail in CI instead of skipping. */
export async function criSkip(): Promise<string | false> {
  let why = criPrerequisitesMissing();
  if (!why && !process.env['CRI_ENDPOINT'] && !(await dockerAvailable())) why = 'no Docker engine to take the test images from';
  return skipUnless(why === '', `containerd for the CRI tests (${why})`);
}

export type TestContainerd = {
  /** `unix://<socket>`, for CriRuntime.connect / connectRuntime. */
  endpoint: string;
  socket: string;
  /** A directory for pod logs (CriRuntime's logRoot). */
  logRoot: string;
  /** Runs `ctr -a <socket> -n k8s.io ...`, e.g. `ctr(['tasks', 'kill', '-s', 'SIGKILL', id])`. */
  ctr(args: string[]): Promise<string>;
  stop(): Promise<void>;
};

function configToml(dir: string, socket: string, cniConfDir: string): string {
  // native snapshotter: overlayfs may be refused inside sandboxes. restrict_oom_score_adj: the pause container's
  // oom_score_adj of -998 is refused where we lack CAP_SYS_RESOURCE; clamping to ours keeps sandboxes starting.
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${cniConfDir}"
`;
}

/** A bridge + portmap network private to this containerd: own bridge name, subnet and IPAM state. */
function cniConflist(bridge: string, subnet: string, ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: bridge,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

async function waitForCri(endpoint: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`containerd exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    const c = new CriClient({ endpoint });
    try {
      await c.call('Version', { version: 'v1' }, 2000);
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`containerd at ${endpoint} did not answer CRI Version in 30 s: ${last}`);
}

function pipeImport(socket: string, images: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    save.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    imp.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    save.stdout.pipe(imp.stdin);
    save.on('error', reject);
    imp.on('error', reject);
    imp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker save | ctr images import failed (${code}): ${err.trim()}`))));
  });
}

/** Shim processes outlive containerd: find ours (by our socket in their command line) and end them by pid. */
function shimPidsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.includes('containerd-shim') && cmd.includes(socket)) pids.push(Number(entry));
    } catch {
      /* process ended meanwhile */
    }
  }
  return pids;
}

async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]).catch(() => undefined);
}

/**
 * Starts a private containerd with the CRI plugin and imports the test images into it, or, with CRI_ENDPOINT set,
 * uses that runtime (whose images must already be there) and leaves it running at stop().
 */
export async function startTestContainerd(): Promise<TestContainerd> {
  const external = process.env['CRI_ENDPOINT'];
  if (external) {
    const socket = external.replace(/^unix:\/\//, '');
    return {
      endpoint: external,
      socket,
      logRoot: mkdtempSync(join(tmpdir(), 'ke-cri-logs-')),
      ctr: async (args) => (await run('ctr', ['-a', socket, '-n', 'k8s.io', ...args])).stdout,
      stop: async () => undefined,
    };
  }
  await ensureTestImages();
  const dir = mkdtempSync(join(tmpdir(), 'ke-ctrd-'));
  const socket = join(dir, 'containerd.sock');
  const cniConfDir = join(dir, 'cni');
  mkdirSync(cniConfDir);
  const tag = String(process.pid % 100_000);
  const bridge = `kets${tag}`;
  const subnet = `10.${90 + (process.pid % 60)}.${process.pid % 250}.0/24`;
  writeFileSync(join(cniConfDir, '10-kets.conflist'), cniConflist(bridge, subnet, join(dir, 'ipam')));
  writeFileSync(join(dir, 'config.toml'), configToml(dir, socket, cniConfDir));
  const logFile = join(dir, 'containerd.log');
  const child = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] });
  const endpoint = `unix://${socket}`;
  const ctr = async (args: string[]): Promise<string> => (await run('ctr', ['-a', socket, '-n', 'k8s.io', ...args])).stdout;
  const stop = async (): Promise<void> => {
    // Sandboxes first, so CNI tears down its netns and iptables rules while containerd is still there.
    if (child.exitCode === null) {
      const c = new CriClient({ endpoint });
      try {
        const { items } = await c.call<{ items: Array<{ id: string }> }>('ListPodSandbox', { filter: {} });
        for (const s of items) {
          await c.call('StopPodSandbox', { pod_sandbox_id: s.id }, 60_000).catch(() => undefined);
          await c.call('RemovePodSandbox', { pod_sandbox_id: s.id }, 60_000).catch(() => undefined);
        }
      } catch {
        /* containerd is already unwell: kill it anyway */
      }
      c.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    for (const pid of shimPidsOf(socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await waitForCri(endpoint, child, logFile);
    await pipeImport(socket, [BUSYBOX_IMAGE, PAUSE_IMAGE]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, socket, logRoot: join(dir, 'pod-logs'), ctr, stop };
}

/** The CRI log file of a container, as plain stdout text (containerd writes `<time> <stream> <P|F> <line>`). */
export function readCriLog(path: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
  let out = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\S+ (stdout|stderr) ([PF]) (.*)$/.exec(line);
    if (!m || m[1] !== stream) continue;
    out += m[3] + (m[2] === 'F' ? '\n' : '');
  }
  return out;
}
