import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/rest.ts';

/**
 * Metadata an edge has no use for: bumped by every write (resourceVersion), by the server's bookkeeping
 * (generation) or by who wrote what (managedFields). KubeEdge's edgecontroller ignores the first two when it
 * decides whether a pod changed; managedFields changes with every status writer, so it is left out too.
 */
const IGNORED_METADATA = new Set(['resourceVersion', 'generation', 'managedFields']);

/** What of a pod the edge acts on: its metadata (labels, annotations, deletion, owners, finalizers...) and spec. */
function desiredState(pod: KubeObject): { metadata: Record<string, unknown>; spec: unknown } {
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pod.metadata ?? {})) if (!IGNORED_METADATA.has(k)) metadata[k] = v;
  return { metadata, spec: pod['spec'] ?? null };
}

/**
 * Whether a pod update is worth sending to its edge: its metadata or spec changed (KubeEdge's `isPodUpdated`).
 * A status-only change is the edge's own report coming back, and the edge ignores a pod's status anyway.
 * Compared by digest: the same digest of the same informer object serves the reliable queue and each sync pass.
 */
export function podChangedForEdge(old: KubeObject, cur: KubeObject): boolean {
  return digest(old) !== digest(cur);
}

/**
 * A digest of what the edge acts on, for objects whose resourceVersion also moves for changes the edge is not
 * sent (pods: every status report). Equal digests = the edge's copy is as good as the live object even when
 * the live resourceVersion is newer. Undefined for other kinds: every change of a ConfigMap or Secret matters.
 */
export function edgeFingerprint(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null || (obj as KubeObject).kind !== 'Pod') return undefined;
  return digest(obj as KubeObject);
}

function digest(pod: KubeObject): string {
  // Informer objects are replaced, never changed in place, and the sync pass asks about the same ones every 5 s.
  let f = memo.get(pod);
  if (f === undefined) {
    f = createHash('sha256')
      .update(stableJson(desiredState(pod)))
      .digest('base64url')
      .slice(0, 22);
    memo.set(pod, f);
  }
  return f;
}

const memo = new WeakMap<object, string>();

/** JSON with object keys sorted, so equal objects give equal text whatever order their keys came in. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
