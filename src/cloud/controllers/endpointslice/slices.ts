import type { KubeObject } from '../../../kube/rest.ts';
import { isBeingDeleted, isPodReady, nameOf } from '../kit/objects.ts';
import {
  compareIPs,
  comparePorts,
  endpointPorts,
  isHeadless,
  listsPod,
  podIPOf,
  podsOf,
  podTargetOf,
  portsKey,
  serviceSpec,
  type EndpointPort,
  type PodTarget,
} from '../kit/services.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** kube-controller-manager's default --max-endpoints-per-slice. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export type Endpoint = {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
} & PodTarget;

/** The content of one slice the controller wants: its ports and up to 100 endpoints. */
export type SliceContent = { ports: EndpointPort[]; endpoints: Endpoint[] };

/**
 * The slices a Service should have: its pods (terminating ones too, so clients can drain them) grouped by
 * the ports they serve and cut into slices of at most 100, in a stable order.
 */
export function desiredSlices(svc: KubeObject, pods: readonly KubeObject[], max = MAX_ENDPOINTS_PER_SLICE): SliceContent[] {
  const publishNotReady = serviceSpec(svc).publishNotReadyAddresses === true;
  const groups = new Map<string, SliceContent>();
  for (const pod of podsOf(svc, pods, true)) {
    const ports = endpointPorts(svc, pod);
    if (!listsPod(svc, ports)) continue;
    const key = portsKey(ports);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { ports: [...ports].sort(comparePorts), endpoints: [] }));
    const terminating = isBeingDeleted(pod);
    const serving = publishNotReady || isPodReady(pod);
    g.endpoints.push({
      addresses: [podIPOf(pod)],
      conditions: { ready: serving && !terminating, serving, terminating },
      ...podTargetOf(svc, pod),
    });
  }
  const out: SliceContent[] = [];
  for (const [, g] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    g.endpoints.sort((a, b) => compareIPs(a.addresses[0] ?? '', b.addresses[0] ?? '') || a.targetRef.name.localeCompare(b.targetRef.name));
    for (let i = 0; i < g.endpoints.length; i += max) out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + max) });
  }
  // A Service without endpoints keeps one empty slice, so readers can tell "no endpoints" from "not synced".
  return out.length === 0 ? [{ ports: [], endpoints: [] }] : out;
}

export function sliceLabels(svc: KubeObject): Record<string, string> {
  const labels = (svc.metadata?.['labels'] as Record<string, string> | undefined) ?? {};
  return { ...labels, [SERVICE_NAME_LABEL]: nameOf(svc), [MANAGED_BY_LABEL]: MANAGED_BY, ...(isHeadless(svc) ? { [HEADLESS_LABEL]: '' } : {}) };
}

export type SlicePlan = {
  create: SliceContent[];
  update: Array<{ slice: KubeObject; content: SliceContent }>;
  remove: KubeObject[];
};

/**
 * Fits the wanted slices onto the existing ones: a slice already holding what is wanted is left alone, one
 * with the same ports but other endpoints is rewritten, what is left over is created or deleted. An
 * unchanged service therefore plans no write at all.
 */
export function planSlices(existing: readonly KubeObject[], want: SliceContent[], labels: Record<string, string>): SlicePlan {
  const free = [...existing].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const plan: SlicePlan = { create: [], update: [], remove: [] };
  const unmatched: SliceContent[] = [];
  for (const w of want) {
    const i = free.findIndex((s) => sameContent(s, w) && sameLabels(s, labels));
    if (i >= 0) free.splice(i, 1);
    else unmatched.push(w);
  }
  for (const w of unmatched) {
    const i = free.findIndex((s) => portsKey(portsOf(s)) === portsKey(w.ports));
    const j = i >= 0 ? i : free.length > 0 ? 0 : -1;
    if (j >= 0) plan.update.push({ slice: free.splice(j, 1)[0] as KubeObject, content: w });
    else plan.create.push(w);
  }
  plan.remove.push(...free);
  return plan;
}

function portsOf(slice: KubeObject): EndpointPort[] {
  return (slice['ports'] as EndpointPort[] | undefined) ?? [];
}

function sameContent(slice: KubeObject, w: SliceContent): boolean {
  return canonical(portsOf(slice)) === canonical(w.ports) && canonical(slice['endpoints'] ?? []) === canonical(w.endpoints);
}

function sameLabels(slice: KubeObject, labels: Record<string, string>): boolean {
  return canonical(slice.metadata?.['labels'] ?? {}) === canonical(labels);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}
