import { asList, asObj } from '../kobj.ts';
import type { KObj } from '../store.ts';

/**
 * metav1.LabelSelector (matchLabels + matchExpressions) as objects carry it: matching a label set, and the
 * string form kube-apiserver writes into Scale status.selector and kubectl prints in SELECTOR columns.
 */
export function selectorMatches(sel: unknown, labels: Record<string, string>): boolean {
  const s = asObj(sel);
  for (const [k, v] of Object.entries(asObj(s['matchLabels']))) if (labels[k] !== String(v)) return false;
  for (const e of asList(s['matchExpressions'])) {
    const key = String(e['key'] ?? '');
    const values = Array.isArray(e['values']) ? e['values'].map(String) : [];
    const has = Object.hasOwn(labels, key);
    switch (e['operator']) {
      case 'In':
        if (!has || !values.includes(labels[key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when the selector has no requirement at all (which, for a PodDisruptionBudget, matches no pod). */
export function selectorEmpty(sel: unknown): boolean {
  const s = asObj(sel);
  return Object.keys(asObj(s['matchLabels'])).length === 0 && asList(s['matchExpressions']).length === 0;
}

/** `app=web,tier in (a,b),!legacy`: requirements sorted by key, as labels.Selector.String() prints them. */
export function formatSelector(sel: unknown): string {
  const s = asObj(sel);
  const reqs: [string, string][] = [];
  for (const [k, v] of Object.entries(asObj(s['matchLabels']))) reqs.push([k, `${k}=${String(v)}`]);
  for (const e of asList(s['matchExpressions'])) {
    const key = String(e['key'] ?? '');
    const values = (Array.isArray(e['values']) ? e['values'].map(String) : []).sort();
    switch (e['operator']) {
      case 'In':
        reqs.push([key, `${key} in (${values.join(',')})`]);
        break;
      case 'NotIn':
        reqs.push([key, `${key} notin (${values.join(',')})`]);
        break;
      case 'Exists':
        reqs.push([key, key]);
        break;
      case 'DoesNotExist':
        reqs.push([key, `!${key}`]);
        break;
      default:
        break;
    }
  }
  return reqs
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((r) => r[1])
    .join(',');
}

export function labelsOf(o: KObj): Record<string, string> {
  return asObj(asObj(o['metadata'])['labels']) as Record<string, string>;
}
