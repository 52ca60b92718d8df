import type { KubeObject } from '../../../kube/rest.ts';

export type HostPort = { ip: string; protocol: string; port: number };

type Port = { hostPort?: number; hostIP?: string; protocol?: string };
type Container = { ports?: Port[] };

/** The host ports a pod's containers (and init containers) claim. */
export function hostPortsOf(pod: KubeObject): HostPort[] {
  const spec = (pod['spec'] as { containers?: Container[]; initContainers?: Container[] } | undefined) ?? {};
  const out: HostPort[] = [];
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (typeof p.hostPort !== 'number' || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP === undefined || p.hostIP === '' ? '0.0.0.0' : p.hostIP, protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** Same port and protocol, and addresses that overlap (0.0.0.0 overlaps every address). */
export function portsConflict(want: HostPort[], used: HostPort[]): boolean {
  return want.some((w) => used.some((u) => u.port === w.port && u.protocol === w.protocol && (u.ip === w.ip || u.ip === '0.0.0.0' || w.ip === '0.0.0.0')));
}
