import type { Answer, DecodedPacket, Packet, Question, SrvAnswer, StringAnswer } from 'dns-packet';
import type { MeshEndpoint, MeshService } from '../store.ts';

/** What the answerer reads: the store's two queries (MeshStore satisfies it). */
export type ServiceDirectory = {
  service(ns: string, name: string): MeshService | undefined;
  endpoints(ns: string, name: string): MeshEndpoint[];
  services(): MeshService[];
};

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const AA = 1 << 10;
const RD = 1 << 8;
const RA = 1 << 7;
/** CoreDNS's kubernetes plugin default: clients re-ask soon, so a Service change is seen within seconds. */
export const TTL = 5;

/** `forward`: not a name of ours; the caller sends the query upstream. */
export type Resolution =
  | { kind: 'answer'; packet: Packet }
  | { kind: 'forward' }
  /** An ExternalName Service: `packet` holds the CNAME; the caller adds what upstream says of `target`. */
  | { kind: 'chase'; packet: Packet; target: string };

/**
 * Answers a query for the cluster's names from the store, as a cluster DNS does: `<svc>.<ns>.svc.<domain>` (A =
 * the Service's meshIP, or the ready endpoints' addresses for a headless one), `<a-b-c-d>.<svc>.<ns>.svc.<domain>`
 * for a headless Service's pods, SRV `_<port>._<proto>.<svc>.<ns>.svc.<domain>` for named ports, and the short
 * `<svc>.<ns>` that EdgeMesh answered in KubeEdge. Inside the cluster domain a name that does not exist is
 * NXDOMAIN, one that exists without records of the asked type is NOERROR with no answer (a resolver asking A and
 * AAAA then keeps the A). Everything else is forwarded.
 */
export function resolve(query: DecodedPacket, dir: ServiceDirectory, clusterDomain: string): Resolution {
  const q = query.questions?.[0];
  if (q === undefined || (query.questions?.length ?? 0) !== 1) return { kind: 'answer', packet: reply(query, RCODE.FORMERR, []) };
  const name = normalise(q.name);
  const domain = normalise(clusterDomain);
  const zone = `svc.${domain}`;
  if (name === domain || name.endsWith(`.${domain}`)) {
    if (!name.endsWith(`.${zone}`) && name !== zone) {
      // Pod and other records of the cluster domain are not served at the edge; the domain itself exists.
      return { kind: 'answer', packet: reply(query, name === domain ? RCODE.NOERROR : RCODE.NXDOMAIN, [], domain) };
    }
    const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
    const svcKey = labels.length === 2 ? dir.service(labels[1] ?? '', labels[0] ?? '') : undefined;
    if (svcKey?.externalName !== undefined) return externalResolution(query, q, svcKey.externalName, domain);
    return { kind: 'answer', packet: zoneAnswer(query, q, labels, dir, domain) };
  }
  // `<svc>.<ns>`: answered only when it names a Service, else it may be a real host name and goes upstream.
  const short = name.split('.');
  if (short.length === 2) {
    const [svc = '', ns = ''] = short;
    const s = dir.service(ns, svc);
    if (s?.externalName !== undefined) return externalResolution(query, q, s.externalName, undefined);
    if (s !== undefined) return { kind: 'answer', packet: reply(query, RCODE.NOERROR, serviceRecords(q, s, dir, q.name)) };
  }
  return { kind: 'forward' };
}

function zoneAnswer(query: DecodedPacket, q: Question, labels: string[], dir: ServiceDirectory, domain: string): Packet {
  const n = labels.length;
  if (n === 0) return reply(query, RCODE.NOERROR, [], domain);
  const ns = labels[n - 1] ?? '';
  if (n === 1) {
    // `<ns>.svc.<domain>`: exists while the namespace has a Service.
    const exists = dir.services().some((s) => s.namespace === ns);
    return reply(query, exists ? RCODE.NOERROR : RCODE.NXDOMAIN, [], domain);
  }
  const svcName = labels[n - 2] ?? '';
  const svc = dir.service(ns, svcName);
  if (svc === undefined) return reply(query, RCODE.NXDOMAIN, [], domain);
  const svcFqdn = `${svcName}.${ns}.svc.${domain}`;
  if (n === 2) return reply(query, RCODE.NOERROR, serviceRecords(q, svc, dir, q.name), domain);
  if (n === 3 && svc.headless) {
    // `<a-b-c-d>.<svc>.<ns>.svc.<domain>`: one pod of a headless Service.
    const ip = (labels[0] ?? '').replaceAll('-', '.');
    const ep = readyEndpoints(dir, svc).find((e) => e.ip === ip);
    if (ep === undefined) return reply(query, RCODE.NXDOMAIN, [], domain);
    return reply(query, RCODE.NOERROR, q.type === 'A' ? [a(q.name, ep.ip)] : [], domain);
  }
  if (n === 4) {
    const [portLabel = '', protoLabel = ''] = labels;
    if (!portLabel.startsWith('_') || !protoLabel.startsWith('_')) return reply(query, RCODE.NXDOMAIN, [], domain);
    const portName = portLabel.slice(1);
    const proto = protoLabel.slice(1).toUpperCase();
    const port = svc.ports.find((p) => p.name === portName && p.protocol === proto);
    if (port === undefined) return reply(query, RCODE.NXDOMAIN, [], domain);
    if (q.type !== 'SRV') return reply(query, RCODE.NOERROR, [], domain);
    if (!svc.headless) {
      const extra = svc.meshIP === undefined ? [] : [a(svcFqdn, svc.meshIP)];
      return reply(query, RCODE.NOERROR, [srv(q.name, svcFqdn, port.port)], domain, extra);
    }
    // Headless: one SRV per ready pod, at the pod's own port of that name.
    const answers: Answer[] = [];
    const extra: Answer[] = [];
    for (const e of readyEndpoints(dir, svc)) {
      const ep = e.ports.find((p) => p.name === portName && p.protocol.toUpperCase() === proto);
      if (ep === undefined) continue;
      const target = `${e.ip.replaceAll('.', '-')}.${svcFqdn}`;
      answers.push(srv(q.name, target, ep.port));
      extra.push(a(target, e.ip));
    }
    return reply(query, RCODE.NOERROR, answers, domain, extra);
  }
  return reply(query, RCODE.NXDOMAIN, [], domain);
}

function serviceRecords(q: Question, svc: MeshService, dir: ServiceDirectory, name: string): Answer[] {
  if (q.type !== 'A' && (q.type as string) !== 'ANY') return [];
  if (svc.headless) return readyEndpoints(dir, svc).map((e) => a(name, e.ip));
  return svc.meshIP === undefined ? [] : [a(name, svc.meshIP)];
}

function readyEndpoints(dir: ServiceDirectory, svc: MeshService): MeshEndpoint[] {
  const seen = new Set<string>();
  return dir.endpoints(svc.namespace, svc.name).filter((e) => e.ready && !seen.has(e.ip) && seen.add(e.ip) !== undefined);
}

function a(name: string, ip: string): StringAnswer {
  return { type: 'A', class: 'IN', name, ttl: TTL, data: ip };
}

function srv(name: string, target: string, port: number): SrvAnswer {
  return { type: 'SRV', class: 'IN', name, ttl: TTL, data: { priority: 0, weight: 100, port, target } };
}

/** A reply to `query`: same id and question; authoritative for the cluster domain (then an SOA when empty). */
export function reply(query: DecodedPacket, rcode: number, answers: Answer[], authority?: string, additionals: Answer[] = []): Packet {
  const authorities: Answer[] =
    authority !== undefined && answers.length === 0
      ? [
          {
            type: 'SOA',
            class: 'IN',
            name: authority,
            ttl: TTL,
            data: { mname: `ns.dns.${authority}`, rname: `hostmaster.${authority}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
          },
        ]
      : [];
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: (authority === undefined ? 0 : AA) | (query.flag_rd ? RD : 0) | RA | (rcode & 0xf),
    questions: query.questions ?? [],
    answers,
    authorities,
    additionals,
  };
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** CNAME to the external name; for other types than CNAME the target is looked up upstream by the caller. */
function externalResolution(query: DecodedPacket, q: Question, target: string, domain: string | undefined): Resolution {
  const packet = externalAnswer(query, q, target, domain);
  return q.type === 'CNAME' ? { kind: 'answer', packet } : { kind: 'chase', packet, target: normalise(target) };
}

function externalAnswer(query: DecodedPacket, q: Question, target: string, domain: string | undefined): Packet {
  const cname: StringAnswer = { type: 'CNAME', class: 'IN', name: q.name, ttl: TTL, data: normalise(target) };
  return reply(query, RCODE.NOERROR, [cname], domain);
}
