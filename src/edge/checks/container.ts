import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../../core/errors.ts';
import { DockerClient, type EngineFacts } from '../../containers/index.ts';
import { fail, ok, warn, type CheckResult } from './types.ts';

/**
 * Our own container id when running in a Docker container, from the bind mounts Docker always makes
 * (/etc/hostname, /etc/hosts, /etc/resolv.conf come from /var/lib/docker/containers/<id>/). Works on cgroup v1
 * and v2 alike, with the host network too.
 */
export function ownContainerId(mountinfo?: string): string | undefined {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  return /\/containers\/([0-9a-f]{64})\/(?:resolv\.conf|hostname|hosts)\b/.exec(text)?.[1];
}

export function inContainer(): boolean {
  return ownContainerId() !== undefined || existsSync('/.dockerenv');
}

type Mount = { Source: string; Destination: string; Type?: string };

/** Where `p` lives on the host given the container's mounts (the deepest mount containing it), if anywhere. */
export function hostPathOf(p: string, mounts: readonly Mount[]): string | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const rel = path.relative(m.Destination, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    if (best === undefined || m.Destination.length > best.Destination.length) best = m;
  }
  if (best === undefined || best.Type === 'volume') return undefined;
  return path.join(best.Source, path.relative(best.Destination, p));
}

/**
 * The engine runs pod containers with host paths under these directories (volumes, logs), so inside a
 * container each must be a bind mount of the same host path. Outside a container they trivially are. Docker
 * tells us our own container's mounts; CRI has no call for "the container I am in", so there the check says
 * it cannot verify them (a warning: nothing is known to be wrong).
 */
export async function checkSamePathMounts(
  engine: Pick<EngineFacts, 'kind' | 'endpoint'>,
  dirs: readonly string[],
  containerId = ownContainerId(),
): Promise<CheckResult[]> {
  const NAME = 'same-path mounts';
  const endpoint = engine.endpoint;
  if (containerId === undefined) return [ok(NAME, `not in a container: ${dirs.join(', ')} are host paths`)];
  if (engine.kind !== 'docker') {
    return [
      warn(
        NAME,
        `edgecore runs in container ${containerId.slice(0, 12)} and edged's engine at ${endpoint} speaks CRI, which cannot show this container's mounts; ${dirs.join(', ')} are not verified`,
        'bind-mount each at the same path inside and outside the container (-v DIR:DIR), since the engine resolves pod volume paths on the host',
      ),
    ];
  }
  let mounts: Mount[];
  try {
    const inspect = (await new DockerClient({ endpoint, timeoutMs: 5000 }).inspectContainer(containerId)) as unknown as { Mounts?: Mount[] };
    mounts = inspect.Mounts ?? [];
  } catch (err) {
    return [
      warn(
        NAME,
        `cannot inspect our own container ${containerId.slice(0, 12)} through ${endpoint}: ${describeError(err)}`,
        'make sure the engine socket belongs to the engine running this container',
      ),
    ];
  }
  return dirs.map((d) => {
    const host = hostPathOf(d, mounts);
    if (host === d) return ok(NAME, `${d} is ${d} on the host`);
    const fix = `mount it at the same path inside and outside: docker run -v ${d}:${d} (the engine resolves pod volume paths on the host)`;
    if (host === undefined) return fail(NAME, `${d} is not bind-mounted from the host, so the engine cannot see what edgecore writes there`, fix);
    return fail(NAME, `${d} is mounted from ${host} on the host, a different path`, fix);
  });
}
