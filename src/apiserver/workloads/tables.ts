import { asList, asObj } from '../kobj.ts';
import type { KObj } from '../store.ts';
import { humanDuration } from '../tables.ts';
import { formatSelector } from './labelselector.ts';

/** `kubectl get` columns of the workload kinds, as kube-apiserver 1.32's printers list them. */
type Column = { name: string; type: string; format: string; description: string; priority: number };
type Printer = { columns: Column[]; cells: (x: KObj) => unknown[] };

function col(name: string, type = 'string', priority = 0, format = ''): Column {
  return { name, type, format, description: `${name} column`, priority };
}

const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age');
const WIDE = [col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)];

function since(ts: unknown): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(Date.now() - t);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

const name = (x: KObj) => String(asObj(x['metadata'])['name'] ?? '');
const age = (x: KObj) => since(asObj(x['metadata'])['creationTimestamp']);

/** CONTAINERS, IMAGES of a pod template, and SELECTOR of a label selector (`<none>` when it selects everything). */
function wideCells(podSpec: KObj, selector: unknown): string[] {
  const cs = asList(podSpec['containers']);
  const sel = selector === undefined ? '' : formatSelector(selector);
  return [cs.map((c) => String(c['name'] ?? '')).join(','), cs.map((c) => String(c['image'] ?? '')).join(','), sel === '' ? '<none>' : sel];
}

function templateSpec(spec: KObj): KObj {
  return asObj(asObj(spec['template'])['spec']);
}

function hasCondition(status: KObj, type: string): boolean {
  return asList(status['conditions']).some((c) => c['type'] === type && c['status'] === 'True');
}

function jobStatus(j: KObj): string {
  const st = asObj(j['status']);
  if (hasCondition(st, 'Complete')) return 'Complete';
  if (hasCondition(st, 'Failed')) return 'Failed';
  if (asObj(j['metadata'])['deletionTimestamp'] !== undefined) return 'Terminating';
  if (hasCondition(st, 'Suspended')) return 'Suspended';
  if (hasCondition(st, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(st, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(j: KObj): string {
  const spec = asObj(j['spec']);
  const succeeded = num(asObj(j['status'])['succeeded']);
  if (typeof spec['completions'] === 'number') return `${succeeded}/${spec['completions']}`;
  const par = num(spec['parallelism']);
  return par > 1 ? `${succeeded}/1 of ${par}` : `${succeeded}/1`;
}

function jobDuration(j: KObj): string {
  const st = asObj(j['status']);
  const start = typeof st['startTime'] === 'string' ? Date.parse(st['startTime']) : Number.NaN;
  if (Number.isNaN(start)) return '';
  const end = typeof st['completionTime'] === 'string' ? Date.parse(st['completionTime']) : Date.now();
  return humanDuration(end - start);
}

/** EndpointSlice PORTS and ENDPOINTS: the first three, then `+ N more...`; `<unset>` when there are none. */
function firstThree(list: string[]): string {
  if (list.length > 3) return `${list.slice(0, 3).join(',')} + ${list.length - 3} more...`;
  return list.length === 0 ? '<unset>' : list.join(',');
}

function intOrPercent(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

function controllerOf(x: KObj): string {
  const ref = asList(asObj(x['metadata'])['ownerReferences']).find((r) => r['controller'] === true);
  if (ref === undefined) return '<none>';
  const apiVersion = String(ref['apiVersion'] ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = String(ref['kind'] ?? '');
  return `${(group === '' ? kind : `${kind}.${group}`).toLowerCase()}/${String(ref['name'] ?? '')}`;
}

function nodeSelector(podSpec: KObj): string {
  const entries = Object.entries(asObj(podSpec['nodeSelector'])).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** The printer of a workload kind by `plural.group`, undefined for other kinds. */
export function workloadPrinter(key: string): Printer | undefined {
  switch (key) {
    case 'deployments.apps':
      return {
        columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE, ...WIDE],
        cells: (d) => {
          const spec = asObj(d['spec']);
          const st = asObj(d['status']);
          return [
            name(d),
            `${num(st['readyReplicas'])}/${num(spec['replicas'])}`,
            num(st['updatedReplicas']),
            num(st['availableReplicas']),
            age(d),
            ...wideCells(templateSpec(spec), spec['selector']),
          ];
        },
      };
    case 'replicasets.apps':
      return {
        columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE, ...WIDE],
        cells: (r) => {
          const spec = asObj(r['spec']);
          const st = asObj(r['status']);
          return [name(r), num(spec['replicas']), num(st['replicas']), num(st['readyReplicas']), age(r), ...wideCells(templateSpec(spec), spec['selector'])];
        },
      };
    case 'daemonsets.apps':
      return {
        columns: [
          NAME,
          col('Desired', 'integer'),
          col('Current', 'integer'),
          col('Ready', 'integer'),
          col('Up-to-date', 'integer'),
          col('Available', 'integer'),
          col('Node Selector'),
          AGE,
          ...WIDE,
        ],
        cells: (d) => {
          const spec = asObj(d['spec']);
          const st = asObj(d['status']);
          return [
            name(d),
            num(st['desiredNumberScheduled']),
            num(st['currentNumberScheduled']),
            num(st['numberReady']),
            num(st['updatedNumberScheduled']),
            num(st['numberAvailable']),
            nodeSelector(templateSpec(spec)),
            age(d),
            ...wideCells(templateSpec(spec), spec['selector']),
          ];
        },
      };
    case 'statefulsets.apps':
      return {
        columns: [NAME, col('Ready'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
        cells: (s) => {
          const spec = asObj(s['spec']);
          const st = asObj(s['status']);
          return [name(s), `${num(st['readyReplicas'])}/${num(spec['replicas'])}`, age(s), ...wideCells(templateSpec(spec), undefined).slice(0, 2)];
        },
      };
    case 'controllerrevisions.apps':
      return {
        columns: [NAME, col('Controller'), col('Revision', 'integer'), AGE],
        cells: (c) => [name(c), controllerOf(c), num(c['revision']), age(c)],
      };
    case 'jobs.batch':
      return {
        columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, ...WIDE],
        cells: (j) => {
          const spec = asObj(j['spec']);
          return [name(j), jobStatus(j), jobCompletions(j), jobDuration(j), age(j), ...wideCells(templateSpec(spec), spec['selector'])];
        },
      };
    case 'cronjobs.batch':
      return {
        columns: [NAME, col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), AGE, ...WIDE],
        cells: (c) => {
          const spec = asObj(c['spec']);
          const st = asObj(c['status']);
          const jobSpec = asObj(asObj(spec['jobTemplate'])['spec']);
          const last = st['lastScheduleTime'];
          return [
            name(c),
            String(spec['schedule'] ?? ''),
            typeof spec['timeZone'] === 'string' ? spec['timeZone'] : '<none>',
            spec['suspend'] === true ? 'True' : 'False',
            asList(st['active']).length,
            last === undefined ? '<none>' : since(last),
            age(c),
            ...wideCells(templateSpec(jobSpec), jobSpec['selector']),
          ];
        },
      };
    case 'endpointslices.discovery.k8s.io':
      return {
        columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
        cells: (e) => {
          const ports = asList(e['ports']).map((p) =>
            typeof p['port'] === 'number' ? String(p['port']) : typeof p['name'] === 'string' && p['name'] !== '' ? p['name'] : '*',
          );
          const addrs = asList(e['endpoints']).flatMap((ep) => (Array.isArray(ep['addresses']) ? ep['addresses'].map(String) : []));
          return [name(e), String(e['addressType'] ?? ''), firstThree(ports), firstThree(addrs), age(e)];
        },
      };
    case 'poddisruptionbudgets.policy':
      return {
        columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE],
        cells: (p) => {
          const spec = asObj(p['spec']);
          return [name(p), intOrPercent(spec['minAvailable']), intOrPercent(spec['maxUnavailable']), num(asObj(p['status'])['disruptionsAllowed']), age(p)];
        },
      };
    default:
      return undefined;
  }
}
