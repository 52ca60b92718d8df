import type { ResourceDef } from './resources.ts';
import type { KObj } from './store.ts';
import { badRequest } from './status.ts';

export type Selector = (o: KObj) => boolean;

type LabelReq = { key: string; op: 'eq' | 'ne' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt'; values: string[] };

/** Splits on commas that are not inside parentheses (`a in (x,y),b`). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;

function parseLabelReq(part: string): LabelReq {
  let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
  if (m !== null) {
    return {
      key: checkKey(m[1] ?? ''),
      op: m[2] === 'in' ? 'in' : 'notin',
      values: (m[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    };
  }
  m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(part);
  if (m !== null) {
    const op = m[2] === '!=' ? 'ne' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : 'eq';
    return { key: checkKey(m[1] ?? ''), op, values: [m[3] ?? ''] };
  }
  if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim()), op: '!exists', values: [] };
  return { key: checkKey(part), op: 'exists', values: [] };
}

function checkKey(k: string): string {
  if (!KEY.test(k)) throw badRequest(`unable to parse requirement: invalid label key "${k}"`);
  return k;
}

export function parseLabelSelector(s: string | null): Selector {
  if (s === null || s.trim() === '') return () => true;
  const reqs = splitTop(s).map(parseLabelReq);
  return (o) => {
    const labels = (o['metadata']?.['labels'] ?? {}) as Record<string, string>;
    return reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'eq':
          return has && v === r.values[0];
        case 'ne':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v ?? '');
        case 'notin':
          return !has || !r.values.includes(v ?? '');
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'gt':
          return has && Number(v) > Number(r.values[0]);
        case 'lt':
          return has && Number(v) < Number(r.values[0]);
      }
      return false;
    });
  };
}

/** Selectable fields kube-apiserver computes rather than reads: a Job's `status.successful` is its succeeded count, "0" when unset. */
const COMPUTED_FIELDS: Record<string, { path: string; zero: string }> = {
  'status.successful': { path: 'status.succeeded', zero: '0' },
  'status.replicas': { path: 'status.replicas', zero: '0' },
};

function fieldValue(o: KObj, path: string): string {
  const computed = COMPUTED_FIELDS[path];
  if (computed !== undefined) return rawFieldValue(o, computed.path) || computed.zero;
  return rawFieldValue(o, path);
}

function rawFieldValue(o: KObj, path: string): string {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'object') return '';
  return String(cur);
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** Field selectors: `=`, `==`, `!=` on the fields the resource supports; any other field is a 400 as in k8s. */
export function parseFieldSelector(s: string | null, r: ResourceDef): Selector {
  if (s === null || s.trim() === '') return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(r.fields ?? [])]);
  const reqs = s
    .split(/(?<!\\),/)
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map((part) => {
      const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
      if (m === null) throw badRequest(`invalid field selector: "${part}"`);
      const field = (m[1] ?? '').trim();
      if (!allowed.has(field)) {
        throw badRequest(`"${field}" is not a known field selector: only "${[...allowed].join('", "')}"`);
      }
      return { field, ne: m[2] === '!=', value: unescapeValue(m[3] ?? '') };
    });
  return (o) => reqs.every((q) => (fieldValue(o, q.field) === q.value) !== q.ne);
}
