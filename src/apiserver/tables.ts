import { crdPrinter } from './crd/printer.ts';
import type { ResourceDef } from './resources.ts';
import type { KObj } from './store.ts';
import { podStatusReason, podReadyCount, podRestarts } from './podstatus.ts';
import { workloadPrinter } from './workloads/tables.ts';

type Column = { name: string; type: string; format: string; description: string; priority: number };
type Row = { cells: unknown[]; object?: KObj };

function col(name: string, type = 'string', priority = 0, format = ''): Column {
  return { name, type, format, description: `${name} column`, priority };
}

/** k8s.io/apimachinery duration.HumanDuration, the AGE format kubectl shows. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts: unknown): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(Date.now() - t);
}

function o(v: unknown): KObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as KObj) : {};
}

function arr(v: unknown): KObj[] {
  return Array.isArray(v) ? (v as KObj[]) : [];
}

function none(v: unknown): string {
  return v === undefined || v === null || v === '' ? '<none>' : String(v);
}

function nodeStatus(n: KObj): string {
  const ready = arr(o(n['status'])['conditions']).find((c) => c['type'] === 'Ready');
  let s = ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : ready['status'] === 'False' ? 'NotReady' : 'Unknown';
  if (o(n['spec'])['unschedulable'] === true) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(n: KObj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o(o(n['metadata'])['labels']))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const r = k.slice('node-role.kubernetes.io/'.length);
      if (r !== '') roles.add(r);
    } else if (k === 'kubernetes.io/role' && v !== '') roles.add(String(v));
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function addr(n: KObj, type: string): string {
  return none(arr(o(n['status'])['addresses']).find((a) => a['type'] === type)?.['address']);
}

function servicePorts(s: KObj): string {
  const ports = arr(o(s['spec'])['ports']).map((p) => {
    const base = p['nodePort'] !== undefined ? `${p['port']}:${p['nodePort']}` : `${p['port']}`;
    return `${base}/${p['protocol'] ?? 'TCP'}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

function endpointsSummary(e: KObj): string {
  const out: string[] = [];
  for (const s of arr(e['subsets'])) {
    const ports = arr(s['ports']);
    for (const a of arr(s['addresses'])) {
      if (ports.length === 0) out.push(String(a['ip']));
      for (const p of ports) out.push(`${a['ip']}:${p['port']}`);
    }
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

type Printer = { columns: Column[]; cells: (x: KObj) => unknown[] };

const AGE = col('Age');

function printerFor(def: ResourceDef): Printer {
  if (def.crd !== undefined) return crdPrinter(def);
  const nameCol = col('Name', 'string', 0, 'name');
  const name = (x: KObj) => o(x['metadata'])['name'];
  const created = (x: KObj) => age(o(x['metadata'])['creationTimestamp']);
  const key = def.group === '' ? def.plural : `${def.plural}.${def.group}`;
  const workload = workloadPrinter(key);
  if (workload !== undefined) return workload;
  switch (key) {
    case 'nodes':
      return {
        columns: [
          nameCol,
          col('Status'),
          col('Roles'),
          AGE,
          col('Version'),
          col('Internal-IP', 'string', 1),
          col('External-IP', 'string', 1),
          col('OS-Image', 'string', 1),
          col('Kernel-Version', 'string', 1),
          col('Container-Runtime', 'string', 1),
        ],
        cells: (n) => {
          const info = o(o(n['status'])['nodeInfo']);
          return [
            name(n),
            nodeStatus(n),
            nodeRoles(n),
            created(n),
            String(info['kubeletVersion'] ?? ''),
            addr(n, 'InternalIP'),
            addr(n, 'ExternalIP'),
            none(info['osImage']),
            none(info['kernelVersion']),
            none(info['containerRuntimeVersion']),
          ];
        },
      };
    case 'pods':
      return {
        columns: [
          nameCol,
          col('Ready'),
          col('Status'),
          col('Restarts', 'string'),
          AGE,
          col('IP', 'string', 1),
          col('Node', 'string', 1),
          col('Nominated Node', 'string', 1),
          col('Readiness Gates', 'string', 1),
        ],
        cells: (p) => {
          const st = o(p['status']);
          const gates = arr(o(p['spec'])['readinessGates']);
          const gateCell =
            gates.length === 0
              ? '<none>'
              : `${gates.filter((g) => arr(st['conditions']).some((c) => c['type'] === g['conditionType'] && c['status'] === 'True')).length}/${gates.length}`;
          return [
            name(p),
            podReadyCount(p),
            podStatusReason(p),
            podRestarts(p),
            created(p),
            none(st['podIP']),
            none(o(p['spec'])['nodeName']),
            none(st['nominatedNodeName']),
            gateCell,
          ];
        },
      };
    case 'namespaces':
      return { columns: [nameCol, col('Status'), AGE], cells: (x) => [name(x), String(o(x['status'])['phase'] ?? ''), created(x)] };
    case 'configmaps':
      return {
        columns: [nameCol, col('Data', 'integer'), AGE],
        cells: (x) => [name(x), Object.keys(o(x['data'])).length + Object.keys(o(x['binaryData'])).length, created(x)],
      };
    case 'secrets':
      return {
        columns: [nameCol, col('Type'), col('Data', 'integer'), AGE],
        cells: (x) => [name(x), String(x['type'] ?? ''), Object.keys(o(x['data'])).length, created(x)],
      };
    case 'services':
      return {
        columns: [nameCol, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
        cells: (s) => {
          const spec = o(s['spec']);
          const ext = arr(o(o(s['status'])['loadBalancer'])['ingress']).map((i) => i['ip'] ?? i['hostname']);
          const externals = [...arr(spec['externalIPs']).map(String), ...ext.map(String)];
          const sel = Object.entries(o(spec['selector']))
            .map(([k, v]) => `${k}=${v}`)
            .join(',');
          return [
            name(s),
            String(spec['type'] ?? 'ClusterIP'),
            none(spec['clusterIP']),
            externals.length > 0 ? externals.join(',') : spec['type'] === 'LoadBalancer' ? '<pending>' : '<none>',
            servicePorts(s),
            created(s),
            none(sel),
          ];
        },
      };
    case 'endpoints':
      return { columns: [nameCol, col('Endpoints'), AGE], cells: (x) => [name(x), endpointsSummary(x), created(x)] };
    case 'serviceaccounts':
      return { columns: [nameCol, col('Secrets', 'integer'), AGE], cells: (x) => [name(x), arr(x['secrets']).length, created(x)] };
    case 'leases.coordination.k8s.io':
      return { columns: [nameCol, col('Holder'), AGE], cells: (x) => [name(x), String(o(x['spec'])['holderIdentity'] ?? ''), created(x)] };
    case 'events':
      return {
        columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), nameCol],
        cells: (e) => {
          const io = o(e['involvedObject']);
          const last = e['lastTimestamp'] ?? e['eventTime'] ?? o(e['metadata'])['creationTimestamp'];
          return [
            age(last),
            String(e['type'] ?? ''),
            String(e['reason'] ?? ''),
            `${String(io['kind'] ?? '').toLowerCase()}/${io['name'] ?? ''}`,
            String(e['message'] ?? ''),
            name(e),
          ];
        },
      };
    case 'customresourcedefinitions.apiextensions.k8s.io':
      return { columns: [nameCol, col('Created At', 'date')], cells: (x) => [name(x), String(o(x['metadata'])['creationTimestamp'] ?? '')] };
    default:
      return { columns: [nameCol, AGE], cells: (x) => [name(x), created(x)] };
  }
}

/** Which object each row carries: kubectl asks for Metadata (the default) to print NAMESPACE and labels. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(x: KObj, include: IncludeObject): KObj | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return x;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: x['metadata'] };
}

/** A meta.k8s.io/v1 Table of the given objects, with the columns a real cluster prints. */
export function toTable(def: ResourceDef, items: KObj[], include: IncludeObject, resourceVersion: string): KObj {
  const p = printerFor(def);
  const rows: Row[] = items.map((x) => {
    const obj = rowObject(x, include);
    return { cells: p.cells(x), ...(obj === undefined ? {} : { object: obj }) };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions: p.columns, rows };
}

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

export function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}
