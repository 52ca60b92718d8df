import type { KubeObject } from '../../../kube/rest.ts';

/** What a pod asks for and a node offers, in the units the scheduler compares: milli-CPU, bytes, pod count. */
export type Resources = { cpu: number; memory: number; ephemeral: number; pods: number; scalar: Record<string, number> };

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (`500m`, `1Gi`, `2e3`) as a number; NaN when it is not one. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return Number.NaN;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(q.trim());
  if (m === null) return Number.NaN;
  const mult = SUFFIX[m[2] ?? ''] ?? Number.NaN;
  return Number(m[1]) * mult;
}

export function emptyResources(): Resources {
  return { cpu: 0, memory: 0, ephemeral: 0, pods: 0, scalar: {} };
}

const STANDARD = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods']);

/** Extended resources the scheduler counts (vendor.com/gpu, hugepages-*): everything but the standard four. */
function isScalar(name: string): boolean {
  return !STANDARD.has(name) && (name.includes('/') || name.startsWith('hugepages-'));
}

export function fromList(list: Record<string, unknown> | undefined): Resources {
  const r = emptyResources();
  for (const [k, v] of Object.entries(list ?? {})) {
    const n = parseQuantity(v);
    if (!Number.isFinite(n)) continue;
    if (k === 'cpu') r.cpu = Math.round(n * 1000);
    else if (k === 'memory') r.memory = n;
    else if (k === 'ephemeral-storage') r.ephemeral = n;
    else if (k === 'pods') r.pods = n;
    else if (isScalar(k)) r.scalar[k] = n;
  }
  return r;
}

export function add(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = (scalar[k] ?? 0) + v;
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, ephemeral: a.ephemeral + b.ephemeral, pods: a.pods + b.pods, scalar };
}

function max(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = Math.max(scalar[k] ?? 0, v);
  return {
    cpu: Math.max(a.cpu, b.cpu),
    memory: Math.max(a.memory, b.memory),
    ephemeral: Math.max(a.ephemeral, b.ephemeral),
    pods: Math.max(a.pods, b.pods),
    scalar,
  };
}

type Container = { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> }; restartPolicy?: string };

/** Requests of a container; a limit with no request counts as the request, as the API server defaults it. */
function containerRequests(c: Container): Resources {
  return fromList({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) });
}

/**
 * What a pod requests as kube-scheduler counts it: the larger of its containers' sum and each init
 * container's request (init containers run one at a time, before the others), sidecars (init containers with
 * restartPolicy Always) adding to everything after them, plus the pod overhead; one pod slot.
 */
export function podRequests(pod: KubeObject): Resources {
  const spec = (pod['spec'] as { containers?: Container[]; initContainers?: Container[]; overhead?: Record<string, unknown> } | undefined) ?? {};
  let sum = emptyResources();
  for (const c of spec.containers ?? []) sum = add(sum, containerRequests(c));
  let sidecars = emptyResources();
  let initMax = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const req = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, req);
      initMax = max(initMax, sidecars);
    } else initMax = max(initMax, add(sidecars, req));
  }
  let total = max(add(sum, sidecars), initMax);
  total = add(total, fromList(spec.overhead));
  total.pods = 1;
  return total;
}

/** What scoring assumes for a container that requests nothing, as kube-scheduler does (100m CPU, 200 MiB). */
export const NON_ZERO_CPU = 100;
export const NON_ZERO_MEMORY = 200 * 2 ** 20;

/** CPU and memory for scoring: a container that requests none counts as the non-zero defaults. */
export function podRequestsForScore(pod: KubeObject): { cpu: number; memory: number } {
  const spec = (pod['spec'] as { containers?: Container[] } | undefined) ?? {};
  let cpu = 0;
  let memory = 0;
  for (const c of spec.containers ?? []) {
    const r = containerRequests(c);
    cpu += r.cpu === 0 ? NON_ZERO_CPU : r.cpu;
    memory += r.memory === 0 ? NON_ZERO_MEMORY : r.memory;
  }
  return { cpu, memory };
}

/** A node's allocatable resources (capacity when it posts no allocatable); 110 pods when it says nothing. */
export function nodeAllocatable(node: KubeObject): Resources {
  const st = (node['status'] as { allocatable?: Record<string, unknown>; capacity?: Record<string, unknown> } | undefined) ?? {};
  const r = fromList(st.allocatable ?? st.capacity);
  if (st.allocatable?.['pods'] === undefined && st.capacity?.['pods'] === undefined) r.pods = 110;
  return r;
}
