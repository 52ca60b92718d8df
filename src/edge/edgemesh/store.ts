import { EventEmitter } from 'node:events';
import type { MeshIpam } from './ipam.ts';

export type MeshPort = { name?: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP'; targetPort?: number | string };
export type MeshService = {
  namespace: string;
  name: string;
  uid: string;
  clusterIP?: string;
  meshIP?: string;
  headless: boolean;
  ports: MeshPort[];
  sessionAffinity: 'None' | 'ClientIP';
  affinityTimeoutSeconds?: number;
  /** `type: ExternalName`: DNS answers a CNAME to this name; no address, no proxying. */
  externalName?: string;
};
export type MeshEndpoint = {
  ip: string;
  nodeName?: string;
  ready: boolean;
  ports: { name?: string; port: number; protocol: string }[];
  targetRef?: { namespace?: string; name: string };
};

/** What the cloud sends: `service`, `endpointslice` (discovery.k8s.io/v1) and `endpoints` objects. */
export type MeshResourceType = 'service' | 'endpointslice' | 'endpoints';
export const MESH_RESOURCE_TYPES: ReadonlySet<string> = new Set<MeshResourceType>(['service', 'endpointslice', 'endpoints']);

/** What the edge itself knows of one of its own pods (from edged's status reports). */
export type LocalPodState = { ip: string; ready: boolean };

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(rec).filter((x): x is Rec => x !== undefined) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * EdgeMesh's view of the cluster's Services and their endpoints, fed from MetaManager (the cloud's objects, which
 * it persisted) and from edged's reports on this node's own pods. Endpoints come from EndpointSlices when a
 * Service has any, else from its Endpoints object (clusters without slices). A local pod's address and readiness
 * as edged last reported them win over the cloud's copy, so a pod that restarted while the cloud was away is
 * found at its new address. Emits `change` (ns, name) whenever what a Service resolves to may have changed.
 */
export class MeshStore extends EventEmitter {
  readonly #ipam: MeshIpam;
  readonly #nodeName: string;
  readonly #services = new Map<string, MeshService>();
  /** `<ns>/<slice name>` → the slice's service key and endpoints. */
  readonly #slices = new Map<string, { service: string; endpoints: MeshEndpoint[] }>();
  /** Service key → its slices' keys: endpoints() is asked per connection and per DNS query. */
  readonly #slicesOf = new Map<string, Set<string>>();
  /** Service key → endpoints from its Endpoints object. */
  readonly #legacy = new Map<string, MeshEndpoint[]>();
  /** `<ns>/<pod>` → what edged reported. */
  readonly #localPods = new Map<string, LocalPodState>();

  constructor(o: { ipam: MeshIpam; nodeName: string }) {
    super();
    this.#ipam = o.ipam;
    this.#nodeName = o.nodeName;
  }

  services(): MeshService[] {
    return [...this.#services.values()];
  }

  service(ns: string, name: string): MeshService | undefined {
    return this.#services.get(`${ns}/${name}`);
  }

  /** The Service whose meshIP or clusterIP is `ip`. */
  serviceByIP(ip: string): MeshService | undefined {
    for (const s of this.#services.values()) if (s.meshIP === ip || s.clusterIP === ip) return s;
    return undefined;
  }

  endpoints(ns: string, name: string): MeshEndpoint[] {
    const key = `${ns}/${name}`;
    const sliceKeys = this.#slicesOf.get(key);
    const list =
      sliceKeys !== undefined && sliceKeys.size > 0 ? [...sliceKeys].flatMap((k) => this.#slices.get(k)?.endpoints ?? []) : (this.#legacy.get(key) ?? []);
    return list.map((e) => this.#withLocalState(e));
  }

  /** Applies one cloud object (`op` insert/update/delete); returns false for an object it cannot read. */
  apply(type: MeshResourceType, op: string, obj: unknown): boolean {
    const o = rec(obj);
    const md = rec(o?.['metadata']);
    const ns = str(md?.['namespace']);
    const name = str(md?.['name']);
    if (o === undefined || ns === undefined || name === undefined) return false;
    const del = op === 'delete';
    if (type === 'service') return this.#applyService(ns, name, del ? undefined : o);
    if (type === 'endpoints') return this.#applyEndpoints(ns, name, del ? undefined : o);
    return this.#applySlice(ns, name, del ? undefined : o);
  }

  /** edged's report on one of this node's pods (undefined = the pod is gone). */
  setLocalPod(ns: string, name: string, state: LocalPodState | undefined): void {
    const key = `${ns}/${name}`;
    const old = this.#localPods.get(key);
    if (state === undefined) this.#localPods.delete(key);
    else this.#localPods.set(key, state);
    if (old?.ip === state?.ip && old?.ready === state?.ready) return;
    for (const svc of this.#servicesWithPod(ns, name)) this.emit('change', ns, svc);
  }

  #applyService(ns: string, name: string, o: Rec | undefined): boolean {
    const key = `${ns}/${name}`;
    if (o === undefined) {
      if (!this.#services.delete(key)) return true;
      this.emit('change', ns, name);
      return true;
    }
    const spec = rec(o['spec']) ?? {};
    const md = rec(o['metadata']) ?? {};
    const externalName = spec['type'] === 'ExternalName' ? str(spec['externalName']) : undefined;
    const clusterIP = externalName === undefined ? str(spec['clusterIP']) : undefined;
    const headless = clusterIP === 'None';
    const ports: MeshPort[] = arr(spec['ports']).flatMap((p) => {
      const port = num(p['port']);
      if (port === undefined) return [];
      const tp = p['targetPort'];
      const proto = str(p['protocol']);
      const portName = str(p['name']);
      return [
        {
          ...(portName === undefined ? {} : { name: portName }),
          port,
          protocol: proto === 'UDP' || proto === 'SCTP' ? proto : 'TCP',
          ...(typeof tp === 'number' || (typeof tp === 'string' && tp !== '') ? { targetPort: tp } : {}),
        },
      ];
    });
    const affinity = spec['sessionAffinity'] === 'ClientIP' ? 'ClientIP' : 'None';
    const timeout = num(rec(rec(spec['sessionAffinityConfig'])?.['clientIP'])?.['timeoutSeconds']);
    const svc: MeshService = {
      namespace: ns,
      name,
      uid: str(md['uid']) ?? '',
      ...(clusterIP === undefined || headless ? {} : { clusterIP }),
      ...(headless || externalName !== undefined ? {} : { meshIP: this.#ipam.allocate(ns, name) }),
      ...(externalName === undefined ? {} : { externalName }),
      headless,
      ports,
      sessionAffinity: affinity,
      ...(affinity === 'ClientIP' ? { affinityTimeoutSeconds: timeout ?? 10800 } : {}),
    };
    this.#services.set(key, svc);
    this.emit('change', ns, name);
    return true;
  }

  #applyEndpoints(ns: string, name: string, o: Rec | undefined): boolean {
    const key = `${ns}/${name}`;
    if (o === undefined) {
      this.#legacy.delete(key);
    } else {
      const eps: MeshEndpoint[] = [];
      for (const sub of arr(o['subsets'])) {
        const ports = endpointPorts(sub['ports']);
        for (const [list, ready] of [
          [sub['addresses'], true],
          [sub['notReadyAddresses'], false],
        ] as const) {
          for (const a of arr(list)) {
            const ip = str(a['ip']);
            if (ip === undefined) continue;
            eps.push(endpoint(ip, ready, ports, str(a['nodeName']), rec(a['targetRef']), ns));
          }
        }
      }
      this.#legacy.set(key, eps);
    }
    this.emit('change', ns, name);
    return true;
  }

  #applySlice(ns: string, name: string, o: Rec | undefined): boolean {
    const key = `${ns}/${name}`;
    const prev = this.#slices.get(key);
    if (o === undefined) {
      if (prev !== undefined) this.#slicesOf.get(prev.service)?.delete(key);
      this.#slices.delete(key);
      if (prev !== undefined) this.emit('change', ns, prev.service.slice(ns.length + 1));
      return true;
    }
    const svcName = str(rec(rec(o['metadata'])?.['labels'])?.[SERVICE_NAME_LABEL]);
    if (svcName === undefined) return false;
    if (prev !== undefined) this.#slicesOf.get(prev.service)?.delete(key);
    const eps: MeshEndpoint[] = [];
    // IPv4 only: the mesh's addresses and the DNS answers it gives are A records.
    if (o['addressType'] === 'IPv4') {
      const ports = endpointPorts(o['ports']);
      for (const e of arr(o['endpoints'])) {
        const cond = rec(e['conditions']) ?? {};
        // KubeEdge's and kube-proxy's reading: ready unless the slice says false.
        const ready = cond['ready'] !== false;
        for (const ip of Array.isArray(e['addresses']) ? e['addresses'] : []) {
          if (typeof ip === 'string' && ip !== '') eps.push(endpoint(ip, ready, ports, str(e['nodeName']), rec(e['targetRef']), ns));
        }
      }
    }
    this.#slices.set(key, { service: `${ns}/${svcName}`, endpoints: eps });
    let set = this.#slicesOf.get(`${ns}/${svcName}`);
    if (set === undefined) {
      set = new Set();
      this.#slicesOf.set(`${ns}/${svcName}`, set);
    }
    set.add(key);
    if (prev !== undefined && prev.service !== `${ns}/${svcName}`) this.emit('change', ns, prev.service.slice(ns.length + 1));
    this.emit('change', ns, svcName);
    return true;
  }

  #withLocalState(e: MeshEndpoint): MeshEndpoint {
    // Only this node's pods: edged reports nothing else, and another node's pod of the same name is not ours.
    if (e.targetRef === undefined || (e.nodeName !== undefined && e.nodeName !== this.#nodeName)) return e;
    const local = this.#localPods.get(`${e.targetRef.namespace ?? ''}/${e.targetRef.name}`);
    if (local === undefined) return e;
    return { ...e, ip: local.ip, ready: local.ready };
  }

  #servicesWithPod(ns: string, pod: string): Set<string> {
    const out = new Set<string>();
    const has = (eps: MeshEndpoint[]) => eps.some((e) => e.targetRef?.name === pod && e.targetRef.namespace === ns);
    for (const s of this.#slices.values()) if (has(s.endpoints)) out.add(s.service.slice(s.service.indexOf('/') + 1));
    for (const [k, eps] of this.#legacy) if (has(eps)) out.add(k.slice(k.indexOf('/') + 1));
    return out;
  }
}

function endpointPorts(v: unknown): MeshEndpoint['ports'] {
  return arr(v).flatMap((p) => {
    const port = num(p['port']);
    if (port === undefined) return [];
    const name = str(p['name']);
    return [{ ...(name === undefined ? {} : { name }), port, protocol: str(p['protocol']) ?? 'TCP' }];
  });
}

function endpoint(ip: string, ready: boolean, ports: MeshEndpoint['ports'], nodeName: string | undefined, ref: Rec | undefined, ns: string): MeshEndpoint {
  const refName = str(ref?.['name']);
  const refNs = str(ref?.['namespace']) ?? ns;
  const isPod = ref !== undefined && (ref['kind'] === undefined || ref['kind'] === 'Pod');
  return {
    ip,
    ready,
    ports,
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(isPod && refName !== undefined ? { targetRef: { namespace: refNs, name: refName } } : {}),
  };
}
