import type { KubeObject } from '../../../kube/rest.ts';

/** What one pass over a Terminating namespace found. */
export type Sweep = {
  /** `plural.group` → objects still there. */
  remaining: Map<string, number>;
  /** finalizer → objects still carrying it. */
  finalizers: Map<string, number>;
  failures: string[];
  discoveryError?: string;
};

export type NamespaceCondition = { type: string; status: 'True' | 'False'; lastTransitionTime: string; reason: string; message: string };

const list = (m: Map<string, number>, fmt: (k: string, n: number) => string) =>
  [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => fmt(k, n))
    .join(', ');

/**
 * The five deletion conditions kube-controller-manager puts on a Terminating namespace (types and reasons as
 * `kubectl describe namespace` shows them), keeping each one's lastTransitionTime while its status holds.
 */
export function namespaceConditions(s: Sweep, existing: unknown[] | undefined, now = new Date()): NamespaceCondition[] {
  const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const prev = new Map<string, NamespaceCondition>();
  for (const c of existing ?? []) {
    const cc = c as NamespaceCondition;
    if (typeof cc?.type === 'string') prev.set(cc.type, cc);
  }
  const make = (type: string, bad: boolean, reason: string, message: string): NamespaceCondition => {
    const status = bad ? 'True' : 'False';
    const p = prev.get(type);
    return { type, status, lastTransitionTime: p !== undefined && p.status === status ? p.lastTransitionTime : ts, reason, message };
  };
  return [
    make(
      'NamespaceDeletionDiscoveryFailure',
      s.discoveryError !== undefined,
      s.discoveryError !== undefined ? 'DiscoveryFailed' : 'ResourcesDiscovered',
      s.discoveryError !== undefined ? `Discovery failed for some groups: ${s.discoveryError}` : 'All resources successfully discovered',
    ),
    make('NamespaceDeletionGroupVersionParsingFailure', false, 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
    make(
      'NamespaceDeletionContentFailure',
      s.failures.length > 0,
      s.failures.length > 0 ? 'ContentDeletionFailed' : 'ContentDeleted',
      s.failures.length > 0
        ? `Failed to delete all resource types, ${s.failures.length} remaining: ${s.failures.join(', ')}`
        : 'All content successfully deleted, may be waiting on finalization',
    ),
    make(
      'NamespaceContentRemaining',
      s.remaining.size > 0,
      s.remaining.size > 0 ? 'SomeResourcesRemain' : 'ContentRemoved',
      s.remaining.size > 0
        ? `Some resources are remaining: ${list(s.remaining, (k, n) => `${k} has ${n} resource instances`)}`
        : 'All content successfully removed',
    ),
    make(
      'NamespaceFinalizersRemaining',
      s.finalizers.size > 0,
      s.finalizers.size > 0 ? 'SomeFinalizersRemain' : 'ContentHasNoFinalizers',
      s.finalizers.size > 0
        ? `Some content in the namespace has finalizers remaining: ${list(s.finalizers, (k, n) => `${k} in ${n} resource instances`)}`
        : 'All content-preserving finalizers finished',
    ),
  ];
}

/** Whether `want` says something the namespace's stored conditions do not (times aside). */
export function conditionsChanged(ns: KubeObject, want: NamespaceCondition[]): boolean {
  const have = ((ns['status'] as { conditions?: NamespaceCondition[] } | undefined)?.conditions ?? []).map(
    (c) => `${c.type}|${c.status}|${c.reason}|${c.message}`,
  );
  return have.join('\n') !== want.map((c) => `${c.type}|${c.status}|${c.reason}|${c.message}`).join('\n');
}
