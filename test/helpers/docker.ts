/**
 * Test helpers for code that talks to a real Docker engine. No registry is reachable from test machines, so the
 * images the tests need are built locally by importing a busybox root filesystem (from Debian's busybox-static).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureBusyboxImage, PAUSE_CHANGES, SHELL_CHANGES } from '../../src/keadm/image/busybox.ts';
import { skipUnless } from './skip.ts';
import { DockerClient } from '../../src/containers/index.ts';

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
  return skipUnless(await dockerAvailable(endpoint), `a Docker engine answering at ${endpoint}`);
}

let ensured: Promise<void> | undefined;

/** Makes sure `local/busybox:1` and `kubeedge/pause:3.6` exist, building them from busybox-static if missing. */
export function ensureTestImages(endpoint = DOCKER_ENDPOINT): Promise<void> {
  ensured ??= (async () => {
    const client = new DockerClient({ endpoint });
    const quiet = () => {};
    await ensureBusyboxImage(client, BUSYBOX_IMAGE, SHELL_CHANGES, quiet);
    await ensureBusyboxImage(client, PAUSE_IMAGE, PAUSE_CHANGES, quiet);
  })();
  ensured.catch(() => {
    ensured = undefined;
  });
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
