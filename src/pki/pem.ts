import { createPrivateKey, createPublicKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { KubeEdgeError } from '../core/errors.ts';

// PEM/DER conversions and certificate checks with node:crypto alone. Kept apart from x509.ts (generation and
// signing through @peculiar/x509) so that edgecore, which only signs a CSR once at enrolment, does not load that
// library and its dependencies at start.

export class CertificateError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_CERTIFICATE', message, context, cause === undefined ? {} : { cause });
  }
}

/** A certificate and its private key, both as DER (KubeEdge's secrets hold DER: cert, SEC1 EC key). */
export type KeyPairDer = { certDer: Buffer; keyDer: Buffer };

/** SEC1 (what KubeEdge stores) or PKCS#8 DER. */
export function privateKeyObject(keyDer: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: keyDer, format: 'der', type: 'sec1' });
  } catch {
    return createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
  }
}

export function certDerToPem(der: Buffer): string {
  return pemBlock('CERTIFICATE', der);
}

export function keyDerToPem(der: Buffer): string {
  return pemBlock('EC PRIVATE KEY', der);
}

function pemBlock(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** First PEM block of the given label (or any label) as DER. */
export function pemToDer(pem: string, label?: string): Buffer {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of pem.matchAll(re)) {
    if (label === undefined || m[1] === label) return Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64');
  }
  throw new CertificateError(`no PEM block${label === undefined ? '' : ` "${label}"`} found`);
}

/** Private key PEM (SEC1 or PKCS#8) to SEC1 DER. */
export function keyPemToDer(pem: string): Buffer {
  return createPrivateKey(pem).export({ format: 'der', type: 'sec1' });
}

export function parseCert(der: Buffer): NodeX509 {
  try {
    return new NodeX509(der);
  } catch (err) {
    throw new CertificateError('not a valid DER certificate', {}, err);
  }
}

/** True when `certDer` was signed by the CA and is within its validity period. */
export function chainsTo(certDer: Buffer, caDer: Buffer, now = new Date()): boolean {
  const cert = parseCert(certDer);
  const ca = parseCert(caDer);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

/** True when the private key belongs to the certificate. */
export function keyMatchesCert(keyDer: Buffer, certDer: Buffer): boolean {
  const pub = createPublicKey(privateKeyObject(keyDer)).export({ format: 'der', type: 'spki' });
  const certPub = parseCert(certDer).publicKey.export({ format: 'der', type: 'spki' });
  return pub.equals(certPub);
}
