/**
 * Which endpoint port serves a Service port, as kube-proxy decides it: the EndpointSlice port of the same name
 * (both unnamed when the Service has one port) and protocol. Only ready endpoints; sorted so that every node
 * and every call sees the same order (RoundRobin then alternates predictably).
 */
import type { Backend, ProxyEndpoint, ProxyPort } from './types.ts';

export function backendsFor(port: ProxyPort, endpoints: readonly ProxyEndpoint[]): Backend[] {
  const out: Backend[] = [];
  for (const ep of endpoints) {
    if (!ep.ready || ep.ip === '') continue;
    const p = ep.ports.find((x) => (x.name ?? '') === (port.name ?? '') && x.protocol.toUpperCase() === port.protocol) ?? singlePort(port, ep);
    if (p === undefined) continue;
    out.push({ key: `${ep.ip}:${p.port}`, ip: ep.ip, port: p.port, ...(ep.nodeName !== undefined ? { nodeName: ep.nodeName } : {}) });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Endpoints (not slices) of a one-port Service may leave the port unnamed while the Service names it. */
function singlePort(port: ProxyPort, ep: ProxyEndpoint): ProxyEndpoint['ports'][number] | undefined {
  const same = ep.ports.filter((x) => x.protocol.toUpperCase() === port.protocol);
  if (same.length === 1 && (same[0]?.name ?? '') === '') return same[0];
  if (same.length === 0 && ep.ports.length === 0 && typeof port.targetPort === 'number') return { port: port.targetPort, protocol: port.protocol };
  return undefined;
}

/** `namespace/name:port/protocol`, the identity of one listener. */
export function portKey(ns: string, name: string, port: ProxyPort): string {
  return `${ns}/${name}:${port.port}/${port.protocol}`;
}
