import type { ResourceDef } from './resources.ts';
import type { KObj, Store } from './store.ts';
import { asObj } from './kobj.ts';
import { applyWorkloadDefaults } from './workloads/defaults.ts';

/** RFC 3339 with seconds precision, as Kubernetes serialises metav1.Time. */
export function rfc3339(ms = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function qosClass(spec: KObj): string {
  const cs = [...((spec['containers'] as KObj[] | undefined) ?? []), ...((spec['initContainers'] as KObj[] | undefined) ?? [])];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const req = asObj(asObj(c['resources'])['requests']);
    const lim = asObj(asObj(c['resources'])['limits']);
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultContainers(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const c of list as KObj[]) {
    if (typeof c !== 'object' || c === null) continue;
    c['terminationMessagePath'] ??= '/dev/termination-log';
    c['terminationMessagePolicy'] ??= 'File';
    c['resources'] ??= {};
    if (c['imagePullPolicy'] === undefined) {
      const image = String(c['image'] ?? '');
      const tag = /:([^/:@]+)$/.exec(image.split('@')[0] ?? '')?.[1];
      c['imagePullPolicy'] = image.includes('@') ? 'IfNotPresent' : tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
    }
    if (Array.isArray(c['ports'])) for (const p of c['ports'] as KObj[]) p['protocol'] ??= 'TCP';
  }
}

/** The defaults of every PodSpec, a pod's own or a workload's pod template (which gets no priority or service links). */
export function defaultPodSpec(spec: KObj): void {
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['restartPolicy'] ??= 'Always';
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['schedulerName'] ??= 'default-scheduler';
  spec['securityContext'] ??= {};
  defaultContainers(spec['containers']);
  defaultContainers(spec['initContainers']);
}

/** Secrets: `stringData` is write-only sugar for `data` (base64), as in kube-apiserver. */
export function normaliseSecret(o: KObj): void {
  const sd = asObj(o['stringData']);
  if (o['stringData'] !== undefined) {
    const data = asObj(o['data']);
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v)).toString('base64');
    o['data'] = data;
    delete o['stringData'];
  }
}

function allocClusterIP(store: Store, def: ResourceDef): string {
  const used = new Set(store.list(`${def.group}/${def.plural}`).map((s) => String(asObj(s['spec'])['clusterIP'] ?? '')));
  for (let i = 1; i < 65000; i++) {
    const ip = `10.96.${Math.floor(i / 254)}.${(i % 254) + 1}`;
    if (!used.has(ip)) return ip;
  }
  return '10.96.255.254';
}

/** Server-side defaults a real cluster fills in on create; only the cheap and visible ones. */
export function applyCreateDefaults(def: ResourceDef, o: KObj, store: Store): void {
  if (def.group !== '') {
    applyWorkloadDefaults(def, o);
    return;
  }
  const md = asObj(o['metadata']);
  switch (def.kind) {
    case 'Pod': {
      const spec = asObj(o['spec']);
      o['spec'] = spec;
      defaultPodSpec(spec);
      spec['enableServiceLinks'] ??= true;
      spec['priority'] ??= 0;
      // Like kube-apiserver, a new pod's status is the server's: Pending.
      o['status'] = { phase: 'Pending', qosClass: qosClass(spec) };
      break;
    }
    case 'Namespace': {
      md['labels'] = { ...asObj(md['labels']), 'kubernetes.io/metadata.name': md['name'] };
      const spec = asObj(o['spec']);
      const fin = Array.isArray(spec['finalizers']) ? spec['finalizers'].map(String) : [];
      if (!fin.includes('kubernetes')) fin.push('kubernetes');
      o['spec'] = { ...spec, finalizers: fin };
      o['status'] = { phase: 'Active' };
      break;
    }
    case 'Secret':
      if (typeof o['type'] !== 'string' || o['type'] === '') o['type'] = 'Opaque';
      normaliseSecret(o);
      break;
    case 'Service': {
      const spec = asObj(o['spec']);
      o['spec'] = spec;
      spec['type'] ??= 'ClusterIP';
      spec['sessionAffinity'] ??= 'None';
      if (spec['type'] !== 'ExternalName') {
        spec['clusterIP'] ??= allocClusterIP(store, def);
        spec['clusterIPs'] ??= [spec['clusterIP']];
        spec['ipFamilies'] ??= ['IPv4'];
        spec['ipFamilyPolicy'] ??= 'SingleStack';
        spec['internalTrafficPolicy'] ??= 'Cluster';
      }
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports'] as KObj[]) {
          p['protocol'] ??= 'TCP';
          p['targetPort'] ??= p['port'];
        }
      }
      o['status'] ??= { loadBalancer: {} };
      break;
    }
    default:
      break;
  }
}
