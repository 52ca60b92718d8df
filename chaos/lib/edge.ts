import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EdgeNetns } from './netns.ts';
import { Proc } from './proc.ts';
import type { Rng } from './rng.ts';
import { sh, shOk, sleep } from './sh.ts';

export type RealEdgeOptions = {
  name: string;
  index: number;
  /** Per-run tag for namespace and interface names (short: interface names have 15 characters at most). */
  tag: string;
  subnet: number;
  dir: string;
  dataMiB: number;
  pauseImage: string;
  dockerEndpoint: string;
  /** The edgecore bundle to run. */
  bin: string;
};

/**
 * A real edge: edgecore from the sources on the host's dockerd, in its own network namespace, with its data
 * directory (database, certificates, pod volumes) on a small tmpfs of its own so filling it fills nothing else.
 */
export class RealEdge {
  readonly name: string;
  readonly net: EdgeNetns;
  readonly dataDir: string;
  readonly proc: Proc;
  readonly #o: RealEdgeOptions;
  readonly #config: string;
  #mounted = false;
  #fill: string | undefined;

  constructor(o: RealEdgeOptions) {
    this.#o = o;
    this.name = o.name;
    this.net = new EdgeNetns(o.tag, o.index, o.subnet);
    this.dataDir = path.join(o.dir, 'data');
    this.#config = path.join(o.dir, 'edgecore.yaml');
    this.proc = new Proc({
      name: o.name,
      script: o.bin,
      args: ['--config', this.#config],
      logFile: path.join(o.dir, 'edgecore.log'),
      netnsPath: this.net.nsPath,
    });
  }

  get dbPath(): string {
    return path.join(this.dataDir, 'edgecore.db');
  }

  /** Its tmpfs and network namespace (before the cloud starts: CloudHub listens on the first veth's host end). */
  async prepare(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    await shOk('mount', ['-t', 'tmpfs', '-o', `size=${this.#o.dataMiB}m`, 'tmpfs', this.dataDir]);
    this.#mounted = true;
    await this.net.create();
  }

  configure(cloud: { hostIp: string; wsPort: number; httpsPort: number; token: string }): void {
    const d = this.dataDir;
    writeFileSync(
      this.#config,
      `database:
  dataSource: ${d}/edgecore.db
modules:
  edged:
    hostnameOverride: ${this.name}
    rootDirectory: ${d}/kubelet
    podSandboxImage: ${this.#o.pauseImage}
    tailoredKubeletConfig:
      containerRuntimeEndpoint: ${this.#o.dockerEndpoint}
  deviceTwin: {dmiSockPath: ${d}/dmi.sock}
  eventBus: {enable: false}
  edgeHub:
    heartbeat: 5
    token: "${cloud.token}"
    httpServer: https://${cloud.hostIp}:${cloud.httpsPort}
    websocket: {server: "${cloud.hostIp}:${cloud.wsPort}"}
    tlsCaFile: ${d}/certs/ca.crt
    tlsCertFile: ${d}/certs/edge.crt
    tlsPrivateKeyFile: ${d}/certs/edge.key
`,
    );
  }

  /** Fills the data tmpfs to 100 %: a file grows until the kernel says ENOSPC. */
  fillDisk(): number {
    const file = path.join(this.dataDir, `fill-${Date.now()}`);
    this.#fill = file;
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(1 << 20);
    let written = 0;
    try {
      for (;;) {
        const free = statfsSync(this.dataDir);
        const left = Number(free.bavail) * Number(free.bsize);
        if (left <= 0) break;
        written += writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
    return written;
  }

  freeDisk(): void {
    if (this.#fill !== undefined) rmSync(this.#fill, { force: true });
    this.#fill = undefined;
  }

  /**
   * With edgecore stopped: overwrites the last bytes of the database's write-ahead log with random ones (a torn or
   * rotten tail). Returns how many bytes were overwritten (0 when there is no WAL to corrupt).
   */
  corruptWal(rng: Rng): number {
    const wal = `${this.dbPath}-wal`;
    if (!existsSync(wal)) return 0;
    const size = statSync(wal).size;
    if (size === 0) return 0;
    const n = Math.min(size, rng.int(1, 4096));
    const junk = Buffer.alloc(n);
    for (let i = 0; i < n; i++) junk[i] = rng.int(0, 255);
    const fd = openSync(wal, 'r+');
    try {
      writeSync(fd, junk, 0, n, size - n);
    } finally {
      closeSync(fd);
    }
    return n;
  }

  /** Resolves once a (re)started edgecore has its database open, i.e. is past start-up (false after `timeoutMs`). */
  async up(timeoutMs = 60_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.proc.hasOpen(this.dbPath)) return true;
      await sleep(100);
    }
    return false;
  }

  /** Everything this edge left on the host: its containers, tmpfs, namespace. `keepTo`: copy the data dir there first. */
  async teardown(keepTo?: string): Promise<void> {
    await this.proc.stop(5000);
    await this.net.destroy();
    const ids = (await sh('docker', ['ps', '-aq', '--filter', `label=io.kubeedge-ts.node=${this.name}`])).stdout.split('\n').filter((x) => x !== '');
    if (ids.length > 0) await sh('docker', ['rm', '-f', '-v', ...ids], 120_000);
    if (keepTo !== undefined) await sh('cp', ['-a', this.dataDir, keepTo]);
    if (this.#mounted) {
      // Pod volumes may still be mounted below the data dir (tmpfs secrets): lazy-unmount the whole tree.
      await sh('umount', ['-R', '-l', this.dataDir]);
      this.#mounted = false;
    }
  }

  /** Files in the data dir (for the report when something is off). */
  listing(): string[] {
    try {
      return readdirSync(this.dataDir);
    } catch {
      return [];
    }
  }
}
