import { createHash } from 'node:crypto';
import type { Container, Pod } from './types.ts';

/** Labels kubelet's dockershim used (so `docker ps --filter label=io.kubernetes.pod.name=x` works) plus ours. */
export const L_POD_NAME = 'io.kubernetes.pod.name';
export const L_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const L_POD_UID = 'io.kubernetes.pod.uid';
export const L_CONTAINER_NAME = 'io.kubernetes.container.name';
export const L_CONTAINER_HASH = 'io.kubernetes.container.hash';
/** Value: the edge node that made the container, so several edge nodes can share one engine safely. */
export const L_MANAGED = 'io.kubeedge-ts.node';
/** The restart count survives edgecore restarts because it travels with the container. */
export const L_RESTART_COUNT = 'io.kubeedge-ts.restart-count';
export const SANDBOX_NAME = 'POD';

export function podLabels(pod: Pod, containerName: string, nodeName: string): Record<string, string> {
  return {
    [L_POD_NAME]: pod.metadata.name,
    [L_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
    [L_POD_UID]: pod.metadata.uid,
    [L_CONTAINER_NAME]: containerName,
    [L_MANAGED]: nodeName,
  };
}

/** dockershim's naming: unique per attempt, so the engine itself refuses a duplicate start. */
export function dockerName(pod: Pod, containerName: string, attempt: number): string {
  const safe = (s: string): string => s.replace(/[^a-zA-Z0-9_.-]/g, '-');
  return `k8s_${safe(containerName)}_${safe(pod.metadata.name)}_${safe(pod.metadata.namespace ?? 'default')}_${safe(pod.metadata.uid)}_${attempt}`;
}

/** A change of the container spec (image, command, env...) restarts the container, as kubelet does. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(canonical(c)).digest('hex').slice(0, 16);
}

/** JSON with sorted keys: the same spec re-serialised by another hop must hash the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
