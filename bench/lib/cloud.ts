import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLOUDCORE_NODE_FLAGS } from '../../src/cloud/node-flags.ts';
import { getToken } from '../../src/keadm/gettoken.ts';
import { Api } from './api.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A free TCP port on 127.0.0.1 (closed again before use: fine on a machine where nothing races for ports). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export type CloudPorts = { api: number; websocket: number; https: number };

export type Daemon = { proc: ChildProcess; pid: number; exited: Promise<number | null>; stop(graceMs?: number): Promise<number | null> };

export type Bin = 'cloudcore' | 'edgecore';

/**
 * Where startBin takes the daemons from. `bundles` (the default): dist/<bin>.mjs, the files the images and the npm
 * package ship, so the figures are those of what users run; `sources`: src/cmd/<bin>.ts by type stripping (the bench's
 * `--from-sources`, e.g. for CPU profiles with readable function names).
 */
export type BinSource = 'bundles' | 'sources';
let binSource: BinSource = 'bundles';

export function setBinSource(s: BinSource): void {
  binSource = s;
}

export function getBinSource(): BinSource {
  return binSource;
}

/**
 * The file startBin runs for `bin`, relative to the checkout. The bundle is started by its path where the build put
 * it (never copied), so chunks it may import beside it in dist/ resolve.
 */
export function binPath(bin: Bin, source: BinSource = binSource): string {
  return source === 'bundles' ? path.join('dist', `${bin}.mjs`) : path.join('src/cmd', `${bin}.ts`);
}

const DOCKERFILE: Record<Bin, string> = { cloudcore: 'build/cloud/Dockerfile', edgecore: 'build/edge/Dockerfile' };

/**
 * Node's own flags in the image's ENTRYPOINT (between `node` and the bundle, e.g. V8 heap sizes), so the bundle on
 * the host runs as it does in its image; none when the Dockerfile has no exec-form ENTRYPOINT with node.
 */
export function imageNodeFlags(bin: Bin, root: string = ROOT): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(root, DOCKERFILE[bin]), 'utf8');
  } catch {
    return [];
  }
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text)?.[1];
  if (line === undefined) return [];
  let argv: unknown;
  try {
    argv = JSON.parse(line);
  } catch {
    return [];
  }
  if (!Array.isArray(argv)) return [];
  const words = argv.map(String);
  const node = words.indexOf('node');
  const bundle = words.findIndex((w) => w.endsWith(`${bin}.mjs`));
  return node >= 0 && bundle > node ? words.slice(node + 1, bundle) : [];
}

/** What startBin runs, for the results: the files and Node flags per daemon. */
export type DaemonsInfo = { source: BinSource; cloudcore: string; edgecore: string; nodeFlags: Record<Bin, string[]> };

export function daemonsInfo(): DaemonsInfo {
  const flags = (b: Bin) => (binSource === 'bundles' ? imageNodeFlags(b) : []);
  return {
    source: binSource,
    cloudcore: binPath('cloudcore'),
    edgecore: binPath('edgecore'),
    nodeFlags: { cloudcore: flags('cloudcore'), edgecore: flags('edgecore') },
  };
}

/**
 * Runs one of our binaries (the bundle with its image's Node flags, or the sources: see BinSource) with this Node, output appended to `logFile`.
 * With `cpuProfDir` Node writes a V8 CPU profile there when the process exits (also after SIGTERM, as our daemons
 * exit cleanly).
 */
export function startBin(bin: Bin, config: string, logFile: string, logLevel = 'warn', cpuProfDir?: string): Daemon {
  const file = path.join(ROOT, binPath(bin));
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm run bench does) or pass --from-sources`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const prof = cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  // The bundle with its image's Node flags (cloudcore's come from src/cloud/node-flags.ts through its ENTRYPOINT);
  // from the sources cloudcore still gets its V8 flags. BENCH_CLOUDCORE_NODE_FLAGS overrides them (" ": V8 defaults).
  const override = bin === 'cloudcore' ? process.env['BENCH_CLOUDCORE_NODE_FLAGS']?.split(' ').filter(Boolean) : undefined;
  const flags = override ?? (binSource === 'bundles' ? imageNodeFlags(bin) : bin === 'cloudcore' ? [...CLOUDCORE_NODE_FLAGS] : []);
  const proc = spawn(process.execPath, [...flags, ...prof, file, '--config', config], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return {
    proc,
    pid: proc.pid ?? -1,
    exited,
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export type Cloud = {
  dir: string;
  ports: CloudPorts;
  kubeconfig: string;
  token: string;
  /** host:port of the WebSocket listener and https://host:port of the certificate service, for edges. */
  wsServer: string;
  httpServer: string;
  api: Api;
  daemon: Daemon;
  /** Stops cloudcore (SIGTERM) and starts it again with the same config and data; resolves when the API answers. */
  restart(): Promise<{ stoppedMs: number; apiUpMs: number }>;
  stop(): Promise<void>;
};

export type CloudOptions = {
  dir: string;
  nodeLimit: number;
  logLevel?: string;
  keepaliveInterval?: number;
  cpuProfDir?: string;
  /** `modules.deviceController.load.updateDeviceStatusWorkers` and `statusUpdateIntervalMs` (unset: defaults). */
  deviceController?: { workers: number; statusUpdateIntervalMs: number };
};

function cloudConfigYaml(dir: string, p: CloudPorts, o: CloudOptions): string {
  return `apiVersion: cloudcore.config.kubeedge.io/v1alpha1
kind: CloudCore
modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    nodeLimit: ${o.nodeLimit}
    keepaliveInterval: ${o.keepaliveInterval ?? 30}
    tlsCAFile: ${dir}/cloud/ca/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/ca/rootCA.key
    tlsCertFile: ${dir}/cloud/certs/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/certs/server.key
    unixsocket:
      enable: false
    websocket:
      address: 127.0.0.1
      port: ${p.websocket}
    https:
      address: 127.0.0.1
      port: ${p.https}
  apiServer:
    address: 127.0.0.1
    port: ${p.api}
    dataDir: ${dir}/apiserver
    adminKubeConfig: ${dir}/admin.kubeconfig
${
  o.deviceController === undefined
    ? ''
    : `  deviceController:
    load: {updateDeviceStatusWorkers: ${o.deviceController.workers}}
    statusUpdateIntervalMs: ${o.deviceController.statusUpdateIntervalMs}
`
}`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, exited?: Promise<unknown>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited?.then(() => (dead = true));
  let lastErr = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = String(err);
    }
    if (dead) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms ${lastErr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts our cloudcore with the embedded API server on free 127.0.0.1 ports in `dir`; resolves once a join token exists. */
export async function startCloud(o: CloudOptions): Promise<Cloud> {
  const dir = o.dir;
  mkdirSync(dir, { recursive: true });
  const ports: CloudPorts = { api: await freePort(), websocket: await freePort(), https: await freePort() };
  const config = path.join(dir, 'cloudcore.yaml');
  writeFileSync(config, cloudConfigYaml(dir, ports, o));
  const logFile = path.join(dir, 'cloudcore.log');
  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  let daemon = startBin('cloudcore', config, logFile, o.logLevel, o.cpuProfDir);
  const token = await until('cloudcore join token', async () => (await getToken({ kubeConfig: kubeconfig })) || undefined, 60_000, daemon.exited);
  const api = new Api(kubeconfig, 32);
  const cloud: Cloud = {
    dir,
    ports,
    kubeconfig,
    token,
    wsServer: `127.0.0.1:${ports.websocket}`,
    httpServer: `https://127.0.0.1:${ports.https}`,
    api,
    daemon,
    async restart() {
      const t0 = performance.now();
      await daemon.stop();
      const stoppedMs = performance.now() - t0;
      daemon = startBin('cloudcore', config, logFile, o.logLevel, o.cpuProfDir);
      cloud.daemon = daemon;
      const t1 = performance.now();
      await until(
        'cloudcore API after restart',
        async () => ((await api.request('GET', '/api/v1/namespaces/kubeedge')).status === 200 ? true : undefined),
        60_000,
        daemon.exited,
      );
      return { stoppedMs, apiUpMs: performance.now() - t1 };
    },
    async stop() {
      api.close();
      await daemon.stop();
    },
  };
  return cloud;
}
