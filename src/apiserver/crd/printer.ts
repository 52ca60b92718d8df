import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { humanDuration } from '../tables.ts';
import { jsonPathGet } from './jsonpath.ts';

type Column = { name: string; type: string; format: string; description: string; priority: number };

/** Name + the CRD's additionalPrinterColumns (or Name + Age when it has none), as the server-side table shows them. */
export function crdPrinter(def: ResourceDef): { columns: Column[]; cells: (x: KObj) => unknown[] } {
  const extra = def.crd?.columns ?? [];
  const cols =
    extra.length > 0 ? extra : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp.' }];
  const columns: Column[] = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...cols.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'date' : c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
  ];
  return {
    columns,
    cells: (x) => [x['metadata']?.['name'], ...cols.map((c) => cell(jsonPathGet(x, c.jsonPath), c.type))],
  };
}

function cell(v: unknown, type: string): unknown {
  if (v === undefined || v === null) return null;
  if (type === 'date') {
    const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    return Number.isNaN(t) ? null : humanDuration(Date.now() - t);
  }
  if (type === 'integer' || type === 'number') return typeof v === 'number' ? v : null;
  if (type === 'boolean') return typeof v === 'boolean' ? v : null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
