import { X509Certificate } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { SHARED_EDGE_CN } from './node-identity.ts';

/**
 * Reading facts out of a certificate with node:crypto only (subject fields, SANs, EKUs), so callers need not
 * touch @peculiar/x509. Returns undefined/empty rather than throwing: inputs may come from the network.
 */
export type CertFacts = {
  cn: string | undefined;
  o: string[];
  dns: string[];
  ips: string[];
  eku: string[];
  notBefore: Date;
  notAfter: Date;
};

export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function subjectValues(subject: string, key: string): string[] {
  // node prints one "KEY=value" per line; values containing newlines cannot occur in our subjects.
  return subject
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

function splitSan(san: string | undefined): Array<[string, string]> {
  if (san === undefined || san === '') return [];
  const out: Array<[string, string]> = [];
  // Entries are ", "-separated; node quotes values that contain separators as JSON strings.
  const re = /(DNS|IP Address|URI|email|othername|DirName|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of san.matchAll(re)) {
    const raw = m[2] ?? '';
    out.push([m[1] ?? '', raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return out;
}

export function certFacts(der: Buffer): CertFacts | undefined {
  let c: X509Certificate;
  try {
    c = new X509Certificate(der);
  } catch {
    return undefined;
  }
  const san = splitSan(c.subjectAltName);
  return {
    cn: subjectValues(c.subject, 'CN')[0],
    o: subjectValues(c.subject, 'O'),
    dns: san.filter(([t]) => t === 'DNS').map(([, v]) => v),
    ips: san.filter(([t]) => t === 'IP Address').map(([, v]) => v),
    eku: c.keyUsage ?? [],
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
  };
}

/** IPv4/IPv6 equality regardless of textual form (node prints IPv6 SANs uncompressed). */
export function sameIp(a: string, b: string): boolean {
  const fa = isIP(a);
  const fb = isIP(b);
  if (fa === 0 || fa !== fb) return false;
  const bl = new BlockList();
  const family = fa === 4 ? 'ipv4' : 'ipv6';
  bl.addAddress(a, family);
  return bl.check(b, family);
}

/** Which of the wanted hosts (IPs or DNS names) the certificate does not list as SANs. */
export function missingSans(f: CertFacts, hosts: string[]): string[] {
  return hosts.filter((h) => {
    if (h === '') return false;
    if (isIP(h) !== 0) return !f.ips.some((ip) => sameIp(ip, h));
    return !f.dns.some((d) => d.toLowerCase() === h.toLowerCase());
  });
}

/** Edge node identities in client certificates (names kept for older imports; src/pki/node-identity.ts has them). */
export { SHARED_EDGE_CN as LEGACY_EDGE_CN, NODES_GROUP as NODE_ORG, nodeCommonName } from './node-identity.ts';
/** KubeEdge <= 1.16 issued one shared client identity: O=KubeEdge (v1.15 wrote "kubeEdge"), CN=kubeedge.io. */
export function isLegacyEdgeSubject(cn: string | undefined, o: string[]): boolean {
  return cn === SHARED_EDGE_CN && (o[0] ?? '').toLowerCase() === 'kubeedge';
}
