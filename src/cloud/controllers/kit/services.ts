import type { KubeObject } from '../../../kube/rest.ts';
import { isBeingDeleted, labelsOf, nameOf, namespaceOf, podPhase, uidOf } from './objects.ts';

/** What the endpoint and endpointslice controllers read of Services and the pods behind them. */

export type ServicePort = { name?: string; port: number; targetPort?: number | string; protocol?: string; appProtocol?: string };
export type EndpointPort = { name?: string; port: number; protocol: string; appProtocol?: string };

type ServiceSpec = { selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string; publishNotReadyAddresses?: boolean };
type ContainerPort = { name?: string; containerPort?: number; protocol?: string };
type PodSpec = { containers?: Array<{ ports?: ContainerPort[] }>; nodeName?: string; hostname?: string; subdomain?: string };

export function serviceSpec(svc: KubeObject): ServiceSpec {
  return (svc['spec'] as ServiceSpec | undefined) ?? {};
}

/** A Service without a selector has its endpoints written by someone else; the controllers leave it alone. */
export function selectorOf(svc: KubeObject): Record<string, string> | undefined {
  const s = serviceSpec(svc).selector;
  return s === undefined || s === null || Object.keys(s).length === 0 ? undefined : s;
}

export function isHeadless(svc: KubeObject): boolean {
  return serviceSpec(svc).clusterIP === 'None';
}

export function selects(selector: Record<string, string>, pod: KubeObject): boolean {
  const labels = labelsOf(pod);
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function podIPOf(pod: KubeObject): string {
  const ip = (pod['status'] as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === 'string' ? ip : '';
}

export function podSpecOf(pod: KubeObject): PodSpec {
  return (pod['spec'] as PodSpec | undefined) ?? {};
}

/**
 * The pods of `svc`'s namespace it selects that can serve: with an IPv4 address, not finished, and (unless
 * `terminating` is wanted) not being deleted.
 */
export function podsOf(svc: KubeObject, pods: readonly KubeObject[], terminating: boolean): KubeObject[] {
  const selector = selectorOf(svc);
  if (selector === undefined) return [];
  return pods.filter((p) => {
    if (namespaceOf(p) !== namespaceOf(svc) || !selects(selector, p)) return false;
    const ip = podIPOf(p);
    if (ip === '' || ip.includes(':')) return false;
    const phase = podPhase(p);
    if (phase === 'Succeeded' || phase === 'Failed') return false;
    return terminating || !isBeingDeleted(p);
  });
}

/**
 * The ports `pod` serves `svc` on: a numeric targetPort as is, a named one resolved through the pod's
 * container ports (a pod without that name does not serve that port), none given means the service port.
 */
export function endpointPorts(svc: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of serviceSpec(svc).ports ?? []) {
    const protocol = sp.protocol ?? 'TCP';
    let port: number | undefined;
    if (typeof sp.targetPort === 'number') port = sp.targetPort;
    else if (typeof sp.targetPort === 'string' && sp.targetPort !== '') {
      const asNumber = /^\d+$/.test(sp.targetPort) ? Number(sp.targetPort) : undefined;
      port = asNumber ?? findNamedPort(pod, sp.targetPort, protocol);
    } else port = sp.port;
    if (port === undefined) continue;
    out.push({
      ...(sp.name === undefined || sp.name === '' ? {} : { name: sp.name }),
      port,
      protocol,
      ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }),
    });
  }
  return out;
}

function findNamedPort(pod: KubeObject, name: string, protocol: string): number | undefined {
  for (const c of podSpecOf(pod).containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === name && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The pod's hostname in a headless service's DNS: set when its subdomain names the service. */
export function hostnameFor(svc: KubeObject, pod: KubeObject): string | undefined {
  const spec = podSpecOf(pod);
  if (spec.hostname === undefined || spec.hostname === '' || spec.subdomain !== svc.metadata?.name || !isHeadless(svc)) return undefined;
  return spec.hostname;
}

/** The part of an Endpoints address and of an EndpointSlice endpoint that names the pod behind it. */
export type PodTarget = {
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
};

export function podTargetOf(svc: KubeObject, pod: KubeObject): PodTarget {
  const spec = podSpecOf(pod);
  const hostname = hostnameFor(svc, pod);
  return {
    ...(hostname === undefined ? {} : { hostname }),
    ...(spec.nodeName === undefined || spec.nodeName === '' ? {} : { nodeName: spec.nodeName }),
    targetRef: { kind: 'Pod', namespace: namespaceOf(pod), name: nameOf(pod), uid: uidOf(pod) },
  };
}

/** Whether a pod serving `ports` of `svc` is listed at all. */
export function listsPod(svc: KubeObject, ports: EndpointPort[]): boolean {
  // A headless service without ports still lists its pods (DNS only); any other needs a port to serve on.
  return ports.length > 0 || ((serviceSpec(svc).ports ?? []).length === 0 && isHeadless(svc));
}

export function portsKey(ports: EndpointPort[]): string {
  return JSON.stringify([...ports].sort(comparePorts));
}

export function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || a.protocol.localeCompare(b.protocol);
}

/** Numeric-aware IPv4 order, so addresses come out the same way every time. */
export function compareIPs(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** The services in `pod`'s namespace whose selector matches it (in either of two label sets). */
export function servicesSelecting(services: readonly KubeObject[], ...pods: Array<KubeObject | undefined>): KubeObject[] {
  return services.filter((s) => {
    const sel = selectorOf(s);
    return sel !== undefined && pods.some((p) => p !== undefined && namespaceOf(p) === namespaceOf(s) && selects(sel, p));
  });
}
