import type { KubeObject } from '../../../kube/rest.ts';
import { isPodReady } from '../kit/objects.ts';
import {
  compareIPs,
  comparePorts,
  endpointPorts,
  listsPod,
  podIPOf,
  podsOf,
  podTargetOf,
  portsKey,
  serviceSpec,
  type EndpointPort,
  type PodTarget,
} from '../kit/services.ts';

export type EndpointAddress = { ip: string } & PodTarget;

export type EndpointSubset = { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] };

/**
 * The subsets of a Service's Endpoints: each selected pod's address, ready or not (every one counts as ready
 * with publishNotReadyAddresses), grouped by the ports it serves (a named targetPort may resolve to different
 * numbers in different pods), in a stable order so an unchanged set compares equal to what is stored.
 */
export function desiredSubsets(svc: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const publishNotReady = serviceSpec(svc).publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of podsOf(svc, pods, publishNotReady)) {
    const ports = endpointPorts(svc, pod);
    if (!listsPod(svc, ports)) continue;
    const key = portsKey(ports);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { ports: [...ports].sort(comparePorts), ready: [], notReady: [] }));
    const addr: EndpointAddress = { ip: podIPOf(pod), ...podTargetOf(svc, pod) };
    (publishNotReady || isPodReady(pod) ? g.ready : g.notReady).push(addr);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) => compareIPs(a.ip, b.ip) || a.targetRef.name.localeCompare(b.targetRef.name);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, g]) => ({
      ...(g.ready.length === 0 ? {} : { addresses: g.ready.sort(byIp) }),
      ...(g.notReady.length === 0 ? {} : { notReadyAddresses: g.notReady.sort(byIp) }),
      ...(g.ports.length === 0 ? {} : { ports: g.ports }),
    }));
}

/** Whether stored subsets already say what `want` says (fields the server may add or drop aside). */
export function sameSubsets(stored: unknown, want: EndpointSubset[]): boolean {
  return canonical(Array.isArray(stored) ? stored : []) === canonical(want);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined && !(Array.isArray(o[k]) && (o[k] as unknown[]).length === 0))
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}
