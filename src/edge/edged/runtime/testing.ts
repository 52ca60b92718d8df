/**
 * Test helpers for code that talks to a real Docker engine. No registry is reachable from test machines, so the
 * images the tests need are built locally by importing a busybox root filesystem (from Debian's busybox-static).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerClient } from './docker/client.ts';

const run = promisify(execFile);

export const BUSYBOX_IMAGE = 'local/busybox:1';
export const PAUSE_IMAGE = 'kubeedge/pause:3.6';
export const DOCKER_ENDPOINT = process.env['DOCKER_ENDPOINT'] ?? 'unix:///var/run/docker.sock';

/** True when a Docker engine answers on the endpoint. */
export async function dockerAvailable(endpoint = DOCKER_ENDPOINT): Promise<boolean> {
  try {
    return (await new DockerClient({ endpoint }).ping()).trim() === 'OK';
  } catch {
    return false;
  }
}

/** For `test(name, { skip: await dockerSkip() }, ...)`: a missing engine fails in CI instead of skipping. */
export async function dockerSkip(endpoint = DOCKER_ENDPOINT): Promise<string | false> {
  if (await dockerAvailable(endpoint)) return false;
  if (process.env['CI'] === 'true') throw new Error(`a Docker engine at ${endpoint} is required in CI but does not answer`);
  return `no Docker engine at ${endpoint}`;
}

function findBusybox(): string {
  for (const p of [process.env['BUSYBOX'], '/bin/busybox', '/usr/bin/busybox'].filter((x): x is string => !!x)) {
    if (existsSync(p)) return p;
  }
  throw new Error('busybox not found: install busybox-static (a statically linked busybox is needed inside images)');
}

async function buildBusyboxRootfs(): Promise<string> {
  const busybox = findBusybox();
  const { stdout } = await run(busybox, ['--list']);
  const root = mkdtempSync(join(tmpdir(), 'ke-rootfs-'));
  for (const d of ['bin', 'etc', 'tmp', 'www', 'root', 'var', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const applet of stdout.split('\n').map((s) => s.trim())) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return root;
}

function dockerImport(root: string, image: string, changes: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['import', ...changes.flatMap((c) => ['-c', c]), '-', image];
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imp = spawn('docker', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    imp.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    tar.stdout.pipe(imp.stdin);
    tar.on('error', reject);
    imp.on('error', reject);
    imp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args.join(' ')} failed (${code}): ${err.trim()}`))));
  });
}

async function imageExists(client: DockerClient, image: string): Promise<boolean> {
  try {
    await client.inspectImage(image);
    return true;
  } catch {
    return false;
  }
}

let ensured: Promise<void> | undefined;

/** Makes sure `local/busybox:1` and `kubeedge/pause:3.6` exist, building them from busybox-static if missing. */
export function ensureTestImages(endpoint = DOCKER_ENDPOINT): Promise<void> {
  ensured ??= (async () => {
    const client = new DockerClient({ endpoint });
    const missing: Array<[string, string[]]> = [];
    if (!(await imageExists(client, BUSYBOX_IMAGE))) missing.push([BUSYBOX_IMAGE, ['CMD ["sh"]']]);
    if (!(await imageExists(client, PAUSE_IMAGE))) missing.push([PAUSE_IMAGE, ['ENTRYPOINT ["/bin/sleep","infinity"]']]);
    if (missing.length === 0) return;
    const root = await buildBusyboxRootfs();
    try {
      for (const [image, changes] of missing) await dockerImport(root, image, changes);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  })();
  ensured.catch(() => { ensured = undefined; });
  return ensured;
}

/** Force-removes every container carrying `label` (key=value); for test cleanup, even after failures. */
export async function removeContainersWithLabel(label: string, endpoint = DOCKER_ENDPOINT): Promise<number> {
  const client = new DockerClient({ endpoint });
  const list = await client.listContainers({ all: true, labels: [label] });
  await Promise.all(list.map((c) => client.removeContainer(c.Id, { force: true, volumes: true }).catch(() => undefined)));
  return list.length;
}

/** `docker ps` through the real CLI, as a user would check. */
export async function dockerPs(filters: string[]): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}}', ...filters.flatMap((f) => ['--filter', f])]);
  return stdout.split('\n').filter((l) => l.trim() !== '');
}
