import type { LocalPodState } from './store.ts';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);

/**
 * What a pod object (or edged's status patch of one) says of the pod's address and readiness; undefined when it
 * carries no IP yet, or (with `nodeName`) when the pod is bound to another node.
 */
export function localPodState(pod: unknown, nodeName: string | undefined): { namespace: string; name: string; state: LocalPodState } | undefined {
  const p = rec(pod);
  const md = rec(p?.['metadata']);
  const status = rec(p?.['status']);
  const namespace = md?.['namespace'];
  const name = md?.['name'];
  const ip = status?.['podIP'];
  if (typeof namespace !== 'string' || typeof name !== 'string' || typeof ip !== 'string' || ip === '') return undefined;
  if (nodeName !== undefined && rec(p?.['spec'])?.['nodeName'] !== nodeName) return undefined;
  const conds = Array.isArray(status?.['conditions']) ? (status['conditions'] as unknown[]) : [];
  const ready = conds.some((c) => rec(c)?.['type'] === 'Ready' && rec(c)?.['status'] === 'True');
  return { namespace, name, state: { ip, ready } };
}
