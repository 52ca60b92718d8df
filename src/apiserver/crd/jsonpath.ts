import type { KObj } from '../store.ts';

/**
 * The simple JSONPaths CRDs use for printer columns and scale: `.spec.replicas`, `.status.conditions[0].type`,
 * `.metadata.labels['app.kubernetes.io/name']`. Undefined when a step is missing.
 */
export function jsonPathGet(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const step of steps(path)) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof step === 'number') cur = Array.isArray(cur) ? cur[step] : undefined;
    else cur = typeof cur === 'object' && !Array.isArray(cur) ? (cur as KObj)[step] : undefined;
  }
  return cur;
}

/** Sets a value at a simple dotted path, creating objects on the way. */
export function jsonPathSet(o: KObj, path: string, value: unknown): void {
  const ss = steps(path);
  let cur: KObj = o;
  ss.forEach((step, i) => {
    if (i === ss.length - 1) cur[step] = value;
    else {
      const next = cur[step];
      if (typeof next !== 'object' || next === null) cur[step] = typeof ss[i + 1] === 'number' ? [] : {};
      cur = cur[step];
    }
  });
}

function steps(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g;
  for (const m of path.replace(/^\{|\}$/g, '').matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3] ?? m[4] ?? '');
  }
  return out;
}
