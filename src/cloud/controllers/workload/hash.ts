/** Kubernetes' alphabet for generated name parts: no vowels (no words), no look-alike characters. */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted at every level: the same object always gives the same text. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** FNV-1a, 32 bits: the hash Kubernetes names ReplicaSets and ControllerRevisions with. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * FNV-32a of `text`, its decimal digits spelled in the safe alphabet: how Kubernetes turns a template hash
 * into a name part (pod-template-hash, controller-revision-hash).
 */
export function safeHash(text: string): string {
  return [...String(fnv32a(text))].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/**
 * The `controller-revision-hash` of a pod template: FNV-32a of the template (and the collision count, which
 * changes the hash when two templates collide), spelled in the safe alphabet as Kubernetes spells it.
 */
export function templateHash(template: unknown, collisionCount: number): string {
  return safeHash(stableJson(template) + (collisionCount > 0 ? String(collisionCount) : ''));
}
