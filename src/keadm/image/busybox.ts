/**
 * Small images made from the host's static busybox, for machines that reach no registry: the pod sandbox
 * (pause) image edged needs for every pod, and a busybox image to run something in. Debian's busybox-static
 * is one statically linked binary, so the image is about 1 MB and has no libraries to match.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { KeadmError, type Out } from '../common.ts';
import type { DockerClient } from '../../containers/index.ts';
import { tarArchive, type TarEntry } from '../tar.ts';

const run = promisify(execFile);

/** What the pause container runs: sleep until stopped. */
export const PAUSE_CHANGES = ['ENTRYPOINT ["/bin/sleep","infinity"]'];
export const SHELL_CHANGES = ['CMD ["sh"]'];

async function findStaticBusybox(log: Out): Promise<string> {
  const candidates = [process.env['BUSYBOX'], '/bin/busybox', '/usr/bin/busybox'].filter((p): p is string => p !== undefined && p !== '');
  for (const p of candidates) if (existsSync(p) && (await isStatic(p))) return p;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('installing busybox-static from Debian (for local images without a registry)');
    await run('apt-get', ['install', '-y', '-qq', 'busybox-static'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).catch(async () => {
      await run('apt-get', ['update', '-qq']);
      await run('apt-get', ['install', '-y', '-qq', 'busybox-static'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    });
    if (existsSync('/bin/busybox')) return '/bin/busybox';
  }
  throw new KeadmError('no static busybox on this host: install busybox-static (apt-get install busybox-static) or make the image available to the engine', 1);
}

async function isStatic(path: string): Promise<boolean> {
  // An ELF with no PT_INTERP segment is statically linked; the dynamic busybox would need libc in the image.
  const elf = readFileSync(path);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** A root filesystem: busybox with a symlink per applet, /etc/passwd and the usual empty directories. */
export async function busyboxRootfs(busybox: string): Promise<Buffer> {
  const { stdout } = await run(busybox, ['--list']);
  const entries: TarEntry[] = ['bin', 'etc', 'tmp', 'www', 'root', 'var', 'proc', 'sys', 'dev'].map((d) => ({
    name: d,
    dir: true,
    mode: d === 'tmp' ? 0o1777 : 0o755,
  }));
  entries.push({ name: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 });
  for (const applet of stdout.split('\n').map((s) => s.trim())) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    entries.push({ name: `bin/${applet}`, symlink: 'busybox' });
  }
  entries.push({ name: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') });
  entries.push({ name: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') });
  return tarArchive(entries);
}

/** Imports `ref` from the host's busybox unless the engine already has it. */
export async function ensureBusyboxImage(c: DockerClient, ref: string, changes: string[], log: Out): Promise<boolean> {
  if ((await c.imageFacts(ref)) !== undefined) return false;
  const rootfs = await busyboxRootfs(await findStaticBusybox(log));
  await c.importImage(Readable.from([rootfs]), ref, changes);
  log(`made ${ref} from the host's busybox (${(rootfs.length / 1e6).toFixed(1)} MB)`);
  return true;
}

/**
 * The pod sandbox image must be in the engine before the first pod: pull it, and where no registry answers,
 * make a stand-in that does what pause does (sleep until stopped).
 */
export async function ensureSandboxImage(c: DockerClient, ref: string, log: Out): Promise<void> {
  if ((await c.imageFacts(ref)) !== undefined) return;
  try {
    await c.pullImage(ref);
    log(`pulled ${ref}`);
  } catch (err) {
    log(`cannot pull ${ref} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); making it locally`);
    await ensureBusyboxImage(c, ref, PAUSE_CHANGES, log);
  }
}
