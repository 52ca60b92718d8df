import type { Pod } from './types.ts';

/** A pod's resolver settings, as Docker's HostConfig Dns/DnsSearch/DnsOptions and CRI's DNSConfig take them. */
export type PodDns = { servers: string[]; searches: string[]; options: string[] };

/** The cluster side of DNS: `tailoredKubeletConfig.clusterDNS` (or EdgeMesh's address) and `clusterDomain`. */
export type ClusterDns = { servers: string[]; domain: string };

const MAX_SERVERS = 3;
const MAX_SEARCHES = 32;

/**
 * The kubelet's reading of `dnsPolicy` and `dnsConfig`: `ClusterFirst` (the default) gives the cluster's
 * resolvers, the search path `<ns>.svc.<domain> svc.<domain> <domain>` and `ndots:5`, except on the host network
 * (there it is `Default`) or when there is no cluster DNS; `ClusterFirstWithHostNet` the same, host network or
 * not; `Default` the node's resolv.conf (the engine's own settings: undefined here); `None` only what
 * `dnsConfig` says. `dnsConfig` is merged into each: servers and searches appended (duplicates dropped, at most 3
 * and 32), options by name, the pod's winning.
 */
export function podDns(pod: Pod, cluster: ClusterDns | undefined): PodDns | undefined {
  const spec = pod.spec;
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const hostNet = spec.hostNetwork === true;
  let base: PodDns | undefined;
  if (policy === 'None') base = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') base = undefined;
  else if ((policy === 'ClusterFirst' && !hostNet) || policy === 'ClusterFirstWithHostNet') {
    const ns = pod.metadata.namespace ?? 'default';
    const d = cluster?.domain ?? '';
    base =
      cluster === undefined || cluster.servers.length === 0
        ? undefined
        : { servers: [...cluster.servers], searches: d === '' ? [] : [`${ns}.svc.${d}`, `svc.${d}`, d], options: ['ndots:5'] };
  }
  const extra = spec.dnsConfig;
  if (extra === undefined) return base;
  const out: PodDns = base ?? { servers: [], searches: [], options: [] };
  const servers = unique([...out.servers, ...(extra.nameservers ?? [])]).slice(0, MAX_SERVERS);
  const searches = unique([...out.searches, ...(extra.searches ?? [])]).slice(0, MAX_SEARCHES);
  const opts = new Map<string, string>();
  for (const o of out.options) opts.set(o.split(':')[0] ?? o, o);
  for (const o of extra.options ?? []) {
    if (o.name === undefined || o.name === '') continue;
    opts.set(o.name, o.value === undefined || o.value === '' ? o.name : `${o.name}:${o.value}`);
  }
  const merged = { servers, searches, options: [...opts.values()] };
  // Default + a dnsConfig that only adds options still needs the node's servers: leave those to the engine.
  return merged.servers.length === 0 && base === undefined && policy !== 'None' ? undefined : merged;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x !== ''))];
}
