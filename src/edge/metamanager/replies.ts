/**
 * Shapes of the cloud's replies as KubeEdge 1.15 sends them (wire/README.md §6): a bare object, a bare
 * `{"ErrStatus":{...}}`, or `{"Object":..., "Err":...}` depending on the resource type.
 */
export type Unwrapped = { object: Record<string, unknown> | null; err: Record<string, unknown> | null };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function unwrapReply(content: unknown): Unwrapped {
  if (!isRecord(content)) return { object: null, err: null };
  if ('Object' in content || 'Err' in content) {
    const o = content['Object'];
    const e = content['Err'];
    return { object: isRecord(o) ? o : null, err: isRecord(e) ? e : null };
  }
  if ('ErrStatus' in content) return { object: null, err: content };
  return { object: content, err: null };
}

/** HTTP status code carried by a Kubernetes error (`{"ErrStatus":{"code":404}}`), or undefined. */
export function errorCode(err: Record<string, unknown> | null): number | undefined {
  if (err === null) return undefined;
  const s = err['ErrStatus'];
  if (!isRecord(s)) return undefined;
  return typeof s['code'] === 'number' ? s['code'] : undefined;
}

/** A usable object: present and with metadata, and no error beside it. */
export function successObject(content: unknown): Record<string, unknown> | null {
  const u = unwrapReply(content);
  if (u.err !== null || u.object === null) return null;
  return isRecord(u.object['metadata']) ? u.object : null;
}
