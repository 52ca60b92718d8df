import type { TLSSocket } from 'node:tls';
import { caCertHash, explainJoinJwt } from '../../../pki/token.ts';
import { chainsTo, type KeyPairDer } from '../../../pki/x509.ts';
import { OID_CLIENT_AUTH, LEGACY_EDGE_CN, NODE_ORG, certFacts, isLegacyEdgeSubject, nodeCommonName } from '../../../pki/cert-info.ts';

export { LEGACY_EDGE_CN, NODE_ORG, nodeCommonName, isLegacyEdgeSubject } from '../../../pki/cert-info.ts';

/**
 * Who may have a certificate signed on /edge.crt: a node presenting its current client certificate (rotation),
 * or anyone holding a valid join token (first enrolment). Mirrors KubeEdge's certificate/certs.go, except that
 * a bad client certificate does not hide a good token (the token alone would have been enough).
 */
export type EdgeAuth = { ok: true; by: 'client-cert'; cn: string; legacy: boolean } | { ok: true; by: 'token' } | { ok: false; reason: string };

function peerCertDer(socket: TLSSocket): Buffer | undefined {
  const peer = socket.getPeerCertificate?.(false);
  const raw = peer?.raw;
  return raw instanceof Buffer && raw.length > 0 ? raw : undefined;
}

/** Checks a presented client certificate; undefined reason means accepted. */
export function checkClientCert(certDer: Buffer, ca: KeyPairDer, nodeName: string): { reason: string } | { cn: string; legacy: boolean } {
  let chains = false;
  try {
    chains = chainsTo(certDer, ca.certDer);
  } catch {
    chains = false;
  }
  if (!chains) return { reason: 'client certificate is not signed by the KubeEdge CA or has expired' };
  const f = certFacts(certDer);
  if (f === undefined) return { reason: 'client certificate is unreadable' };
  // Go's x509 treats a certificate without EKUs as good for any usage.
  if (f.eku.length > 0 && !f.eku.includes(OID_CLIENT_AUTH)) return { reason: 'client certificate lacks the clientAuth usage' };
  if (f.o.length === 0) return { reason: 'client certificate has no Organization in subject' };
  if (isLegacyEdgeSubject(f.cn, f.o)) return { cn: LEGACY_EDGE_CN, legacy: true };
  if (f.o[0] === NODE_ORG && nodeName !== '' && f.cn === nodeCommonName(nodeName)) return { cn: f.cn, legacy: false };
  return { reason: `client certificate subject (CN=${f.cn ?? ''}) does not match node "${nodeName}"` };
}

export async function authorizeEdge(socket: TLSSocket, authorization: string | undefined, ca: KeyPairDer, nodeName: string): Promise<EdgeAuth> {
  const reasons: string[] = [];
  const der = peerCertDer(socket);
  if (der !== undefined) {
    const r = checkClientCert(der, ca, nodeName);
    if ('cn' in r) return { ok: true, by: 'client-cert', cn: r.cn, legacy: r.legacy };
    reasons.push(r.reason);
  }
  const auth = (authorization ?? '').trim();
  if (auth === '') {
    reasons.push('token validation failure, token is empty');
    return { ok: false, reason: reasons.join('; ') };
  }
  const parts = auth.split(/\s+/);
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'bearer' || parts[1] === undefined) {
    reasons.push('token validation failure, want "Authorization: Bearer <token>"');
    return { ok: false, reason: reasons.join('; ') };
  }
  let jwt = parts[1];
  // Tolerate a whole join token (caHash.jwt) in the header: strip the hash if it names our CA.
  const dotted = jwt.split('.');
  if (dotted.length === 4 && dotted[0] === caCertHash(ca.certDer)) jwt = dotted.slice(1).join('.');
  const verdict = await explainJoinJwt(jwt, ca.keyDer);
  if (verdict.ok) return { ok: true, by: 'token' };
  reasons.push(`token validation failure, ${verdict.reason}`);
  return { ok: false, reason: reasons.join('; ') };
}
