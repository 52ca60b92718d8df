/**
 * The local base image `kubeedge-ts/node-base:24-bookworm`, made without any registry: a minimal Debian
 * bookworm from Debian's archive (debootstrap), iptables and tini from Debian, and the pinned Node 24 binary
 * from node_modules. CI builds it once per machine; the image existing is the cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { KubeEdgeError } from '../../core/errors.ts';
import type { DockerClient } from '../../containers/index.ts';

export const BASE_IMAGE = 'kubeedge-ts/node-base:24-bookworm';
export const PUBLIC_BASE_IMAGE = 'node:24-bookworm-slim';
/** Packages added to minbase: iptables for the edge (EdgeMesh rules), tini as PID 1, CA roots for TLS to clouds. */
export const BASE_PACKAGES = ['iptables', 'tini', 'ca-certificates'];
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class BaseImageError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('KE_BASE_IMAGE', message, context);
  }
}

export type BaseImageOptions = {
  docker: DockerClient;
  force?: boolean;
  mirror?: string;
  suite?: string;
  /** The Node binary to ship; default: the pinned one in node_modules. */
  nodeBinary?: string;
  workDir?: string;
  log?: (line: string) => void;
};

export type BaseImageResult = { image: string; built: boolean; sizeBytes: number; seconds: number };

/** The mirror apt on this machine uses (deb822 or one-line format), else deb.debian.org. */
export function aptMirror(): string {
  const files = [
    '/etc/apt/sources.list',
    ...listDir('/etc/apt/sources.list.d')
      .filter((f) => /\.(list|sources)$/.test(f))
      .map((f) => `/etc/apt/sources.list.d/${f}`),
  ];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\b/m.exec(text);
    if (m?.[1] !== undefined) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

function listDir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** node_modules/node/bin/node is the real arch-specific binary the `node` npm package ships. */
export function pinnedNodeBinary(root = process.cwd()): string {
  for (const p of [path.join(root, 'node_modules/node/bin/node'), path.join(root, 'node_modules/.bin/node')]) {
    if (!existsSync(p)) continue;
    const real = realpathSync(p);
    const head = readFileSync(real).subarray(0, 4);
    if (head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return real;
  }
  if (process.version.startsWith('v24.')) return process.execPath;
  throw new BaseImageError('no Node 24 binary found: run `npm ci` (the `node` devDependency ships it) or run keadm with Node 24');
}

function run(cmd: string, args: string[], log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (c: Buffer) => {
      tail = (tail + c.toString()).slice(-4000);
    };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    p.on('error', (err) => reject(new BaseImageError(`${cmd} could not run: ${err.message}`)));
    p.on('exit', (code) => {
      if (code === 0) resolve();
      else {
        log(tail.trim().split('\n').slice(-15).join('\n'));
        reject(new BaseImageError(`${cmd} ${args.slice(0, 3).join(' ')} ... exited with ${code}`, { cmd }));
      }
    });
  });
}

function dirBytes(d: string): number {
  const out = spawnSync('du', ['-sb', d], { encoding: 'utf8' });
  return Number(out.stdout.split('\t')[0] ?? 0);
}

export async function ensureBaseImage(o: BaseImageOptions): Promise<BaseImageResult> {
  const log = o.log ?? (() => undefined);
  const started = performance.now();
  const existing = await o.docker.imageFacts(BASE_IMAGE);
  if (existing !== undefined && o.force !== true) {
    log(`${BASE_IMAGE} exists (${mb(existing.Size ?? 0)}); use --force to rebuild`);
    return { image: BASE_IMAGE, built: false, sizeBytes: existing.Size ?? 0, seconds: 0 };
  }
  if (process.getuid?.() !== 0) throw new BaseImageError('building the base image needs root (debootstrap and chroot); run it with sudo');
  const node = o.nodeBinary ?? pinnedNodeBinary();
  if (spawnSync('sh', ['-c', 'command -v debootstrap'], { encoding: 'utf8' }).stdout.trim() === '') {
    log('installing debootstrap with apt-get');
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], log);
  }
  const mirror = o.mirror ?? aptMirror();
  const suite = o.suite ?? 'bookworm';
  const work = o.workDir ?? '/var/tmp';
  mkdirSync(work, { recursive: true });
  const root = mkdtempSync(path.join(work, 'kubeedge-ts-base-'));
  try {
    log(`debootstrap --variant=minbase ${suite} from ${mirror} (with ${BASE_PACKAGES.join(', ')})`);
    await run('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, suite, root, mirror], log);
    log('cleaning apt caches and documentation');
    for (const d of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'var/log', 'var/cache/debconf']) {
      const full = path.join(root, d);
      for (const f of listDir(full)) rmSync(path.join(full, f), { recursive: true, force: true });
    }
    for (const f of listDir(path.join(root, 'usr/share/locale'))) {
      if (f !== 'locale.alias') rmSync(path.join(root, 'usr/share/locale', f), { recursive: true, force: true });
    }
    const target = path.join(root, 'usr/local/bin/node');
    copyFileSync(node, target);
    chmodSync(target, 0o755);
    // The npm package's binary carries symbols and debug info; stripping them saves ~18 MB and changes no behaviour
    // (the dynamic symbols addons link against stay).
    if (spawnSync('strip', ['--strip-all', target]).status === 0) log(`node binary stripped of symbols and debug info (${mb(statSync(target).size)})`);
    const version = spawnSync('chroot', [root, '/usr/local/bin/node', '--version'], { encoding: 'utf8' });
    if (version.status !== 0) throw new BaseImageError(`the Node binary does not run inside the base filesystem: ${version.stderr.trim()}`);
    log(`rootfs ready: ${mb(dirBytes(root))}, node ${version.stdout.trim()}; importing as ${BASE_IMAGE}`);
    const tar = spawn('tar', ['--numeric-owner', '-C', root, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await o.docker.importImage(tar.stdout, BASE_IMAGE, [`ENV PATH=${BASE_PATH}`, `ENV NODE_VERSION=${version.stdout.trim().slice(1)}`, 'CMD ["node"]']);
    const facts = await o.docker.imageFacts(BASE_IMAGE);
    const seconds = (performance.now() - started) / 1000;
    log(`${BASE_IMAGE} built in ${seconds.toFixed(1)} s, ${mb(facts?.Size ?? 0)}`);
    return { image: BASE_IMAGE, built: true, sizeBytes: facts?.Size ?? 0, seconds };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
