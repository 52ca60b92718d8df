import type { KubeObject } from '../../../kube/rest.ts';
import { safeHash } from '../workload/hash.ts';

/** Label a Deployment puts on its ReplicaSets' selectors and templates, so their pods never overlap. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A template with what carries no meaning removed: null values, empty maps and empty lists. Typed clients
 * (kubectl's `rollout undo` sends a template decoded into Go structs) write `creationTimestamp: null` and
 * `resources: {}` where the API server was given nothing; Kubernetes compares typed values, so these are equal.
 */
export function normalise(v: unknown): Json | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    const out = v.map(normalise).map((x) => x ?? null);
    return out.length === 0 ? undefined : out;
  }
  if (typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalise((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v as Json;
}

/** Canonical text of a pod template without the pod-template-hash label (Kubernetes' EqualIgnoreHash). */
export function templateKey(template: unknown): string {
  const t = structuredClone((template ?? {}) as Record<string, unknown>);
  const md = t['metadata'] as { labels?: Record<string, string> } | undefined;
  if (md?.labels !== undefined) delete md.labels[POD_TEMPLATE_HASH];
  return JSON.stringify(normalise(t) ?? {});
}

export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return templateKey(a) === templateKey(b);
}

/**
 * The pod-template-hash of a template: stable across restarts and API round trips (computed from the
 * normalised template), changed by `collisionCount` when a name is taken by an unrelated ReplicaSet.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  const text = templateKey(template) + (collisionCount === undefined ? '' : `#${collisionCount}`);
  return safeHash(text);
}

/**
 * An int-or-percent (`maxSurge: 1`, `maxUnavailable: '25%'`) against `total`; percentages round up or down as
 * the caller says (Kubernetes rounds surge up and unavailability down). Malformed values count as 0.
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (m !== null) {
      const x = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(x) : Math.floor(x);
    }
    const n = Number(v);
    return Number.isInteger(n) ? n : 0;
  }
  return 0;
}

export type PodTemplate = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, unknown>;
};

export function templateOf(o: KubeObject): PodTemplate {
  return ((o['spec'] as { template?: PodTemplate } | undefined)?.template ?? {}) as PodTemplate;
}
