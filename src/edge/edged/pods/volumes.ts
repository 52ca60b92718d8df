import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Mount } from '../runtime/types.ts';
import { configData, type EnvSources } from './env.ts';
import { type Payload, safePath, writeAtomic } from './atomic-writer.ts';
import { PodSetupError } from './errors.ts';
import { isProjectedVolume, projectedVolumeDir } from './projected.ts';
import type { ConfigObject, Container, KeyToPath, Pod, Volume } from './types.ts';

/** kubelet's layout, so an operator finds volumes where they expect: <root>/pods/<uid>/volumes/<plugin>/<name>. */
export function podDir(rootDirectory: string, uid: string): string {
  return join(rootDirectory, 'pods', uid);
}

function volumeDir(rootDirectory: string, uid: string, plugin: string, name: string): string {
  return join(podDir(rootDirectory, uid), 'volumes', plugin, name);
}

/**
 * Writes a ConfigMap/Secret into a directory, one file per key (or per item), through the atomic writer
 * (kubelet's `..data` layout): the directory is bind-mounted, so a running container sees the whole new set
 * of files at once, never a half-written one, and files of removed keys disappear with the swap.
 */
export async function writeConfigVolume(
  dir: string,
  obj: ConfigObject | undefined,
  isSecret: boolean,
  items: KeyToPath[] | undefined,
  defaultMode: number,
): Promise<void> {
  const data = obj ? configData(obj, isSecret) : new Map<string, Buffer>();
  const wanted: Payload = new Map();
  if (items && items.length > 0) {
    for (const item of items) {
      const content = data.get(item.key);
      if (content === undefined) {
        if (obj === undefined) continue;
        throw new PodSetupError('FailedMount', `configuration key ${JSON.stringify(item.key)} not found in ${obj.metadata.name}`);
      }
      wanted.set(safePath(item.path), { content, mode: item.mode ?? defaultMode });
    }
  } else {
    for (const [k, content] of data) wanted.set(safePath(k), { content, mode: defaultMode });
  }
  await writeAtomic(dir, wanted);
}

export interface VolumeSources extends Pick<EnvSources, 'getConfigMap' | 'getSecret'> {}

/** Materialises every volume of a pod; returns volume name → host path. */
export async function setupVolumes(rootDirectory: string, pod: Pod, src: VolumeSources): Promise<Map<string, string>> {
  const ns = pod.metadata.namespace ?? 'default';
  const uid = pod.metadata.uid;
  const paths = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) {
    paths.set(v.name, await setupVolume(rootDirectory, uid, ns, v, src));
  }
  return paths;
}

async function setupVolume(root: string, uid: string, ns: string, v: Volume, src: VolumeSources): Promise<string> {
  if (v.configMap) {
    const dir = volumeDir(root, uid, 'kubernetes.io~configmap', v.name);
    const obj = await src.getConfigMap(ns, v.configMap.name);
    if (obj === undefined && !v.configMap.optional) throw new PodSetupError('FailedMount', `configmap "${v.configMap.name}" not found`, { namespace: ns });
    await writeConfigVolume(dir, obj, false, v.configMap.items, v.configMap.defaultMode ?? 0o644);
    return dir;
  }
  if (v.secret) {
    const dir = volumeDir(root, uid, 'kubernetes.io~secret', v.name);
    const obj = await src.getSecret(ns, v.secret.secretName);
    if (obj === undefined && !v.secret.optional) throw new PodSetupError('FailedMount', `secret "${v.secret.secretName}" not found`, { namespace: ns });
    await writeConfigVolume(dir, obj, true, v.secret.items, v.secret.defaultMode ?? 0o644);
    return dir;
  }
  if (v.hostPath) {
    const type = v.hostPath.type ?? '';
    if (type === 'DirectoryOrCreate') await mkdir(v.hostPath.path, { recursive: true });
    if (type === 'FileOrCreate') {
      await mkdir(dirname(v.hostPath.path), { recursive: true });
      await writeFile(v.hostPath.path, '', { flag: 'a' });
    }
    if (type === 'Directory' || type === 'File') {
      const st = await stat(v.hostPath.path).catch(() => undefined);
      if (!st || (type === 'Directory') !== st.isDirectory())
        throw new PodSetupError('FailedMount', `hostPath ${v.hostPath.path} is not a ${type.toLowerCase()}`);
    }
    return v.hostPath.path;
  }
  if (isProjectedVolume(v)) {
    // Filled by writeProjectedVolumes once the pod has its IP (status.podIP), before any container starts.
    const dir = projectedVolumeDir(root, uid, v);
    await mkdir(dir, { recursive: true });
    return dir;
  }
  // emptyDir, and the default for volume kinds we do not implement (they at least get a private directory).
  const dir = volumeDir(root, uid, 'kubernetes.io~empty-dir', v.name);
  await mkdir(dir, { recursive: true, mode: 0o777 });
  await chmod(dir, 0o777);
  return dir;
}

/** Re-writes the volumes of `pod` that reference this ConfigMap or Secret; returns whether any did. */
export async function refreshConfigVolumes(rootDirectory: string, pod: Pod, kind: 'configmap' | 'secret', obj: ConfigObject): Promise<boolean> {
  if ((pod.metadata.namespace ?? 'default') !== (obj.metadata.namespace ?? 'default')) return false;
  let touched = false;
  for (const v of pod.spec.volumes ?? []) {
    if (kind === 'configmap' && v.configMap?.name === obj.metadata.name) {
      await writeConfigVolume(
        volumeDir(rootDirectory, pod.metadata.uid, 'kubernetes.io~configmap', v.name),
        obj,
        false,
        v.configMap.items,
        v.configMap.defaultMode ?? 0o644,
      );
      touched = true;
    }
    if (kind === 'secret' && v.secret?.secretName === obj.metadata.name) {
      await writeConfigVolume(
        volumeDir(rootDirectory, pod.metadata.uid, 'kubernetes.io~secret', v.name),
        obj,
        true,
        v.secret.items,
        v.secret.defaultMode ?? 0o644,
      );
      touched = true;
    }
  }
  return touched;
}

/** volumeMounts → bind mounts; a subPath of a directory volume is created if missing (kubelet does the same). */
export async function containerMounts(pod: Pod, c: Container, volumePaths: Map<string, string>): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const base = volumePaths.get(m.name);
    if (base === undefined) throw new PodSetupError('CreateContainerConfigError', `volumeMount ${m.name} refers to no volume of pod ${pod.metadata.name}`);
    let hostPath = base;
    if (m.subPath) {
      hostPath = join(base, safePath(m.subPath));
      const exists = await stat(hostPath).then(
        () => true,
        () => false,
      );
      if (!exists) await mkdir(hostPath, { recursive: true });
    }
    mounts.push({ hostPath, containerPath: m.mountPath, readOnly: m.readOnly ?? false });
  }
  return mounts;
}

export async function removePodDir(rootDirectory: string, uid: string): Promise<void> {
  await rm(podDir(rootDirectory, uid), { recursive: true, force: true });
}
