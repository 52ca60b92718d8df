// @peculiar/x509 2.x resolves its providers through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { CertificateError, privateKeyObject, type KeyPairDer } from './pem.ts';
import { createCsrFast, issueFast, parseCsr, type ParsedCsr } from './fast-x509.ts';

export * from './pem.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth';

const EKU_OID: Record<ExtKeyUsageName, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

/** Go's x509.ExtKeyUsage numbers, as sent in KubeEdge's `ExtKeyUsages` header. */
export const GO_EXT_KEY_USAGE: Record<number, ExtKeyUsageName> = { 1: 'serverAuth', 2: 'clientAuth' };

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyToSec1Der(key: CryptoKey): Promise<Buffer> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'der', type: 'sec1' });
}

async function importSigningKey(keyDer: Buffer): Promise<CryptoKey> {
  const pkcs8 = privateKeyObject(keyDer).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', pkcs8, EC, false, ['sign']) as Promise<CryptoKey>;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

function sanExtension(hosts: string[]): x509.SubjectAlternativeNameExtension | undefined {
  const names = hosts.filter((h) => h !== '').map((h) => (isIP(h) !== 0 ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  return names.length > 0 ? new x509.SubjectAlternativeNameExtension(names) : undefined;
}

/** A self-signed ECDSA P-256 CA, CN `KubeEdge`, valid about 100 years, as KubeEdge makes it. */
export async function createCA(commonName = 'KubeEdge'): Promise<KeyPairDer> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0400',
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 100 * 365 * DAY_MS),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certDer: Buffer.from(cert.rawData), keyDer: await keyToSec1Der(keys.privateKey) };
}

export type IssueOptions = {
  subject: string;
  hosts?: string[];
  usages: ExtKeyUsageName[];
  days: number;
};

type Signer = { caCert: x509.X509Certificate; aki: x509.AuthorityKeyIdentifierExtension; key: CryptoKey };

/** Parsed once per CA: the certificate service signs one certificate per joining edge. */
const signers = new WeakMap<KeyPairDer, Promise<Signer>>();

function signerFor(ca: KeyPairDer): Promise<Signer> {
  let s = signers.get(ca);
  if (s === undefined) {
    s = (async () => {
      const caCert = new x509.X509Certificate(ca.certDer);
      return { caCert, aki: await x509.AuthorityKeyIdentifierExtension.create(caCert, false), key: await importSigningKey(ca.keyDer) };
    })();
    signers.set(ca, s);
  }
  return s;
}

async function issue(ca: KeyPairDer, publicKey: CryptoKey | x509.PublicKey, o: IssueOptions): Promise<Buffer> {
  const { caCert, aki, key } = await signerFor(ca);
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(
      o.usages.map((u) => EKU_OID[u]),
      false,
    ),
    aki,
  ];
  const san = sanExtension(o.hosts ?? []);
  if (san !== undefined) extensions.push(san);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: o.subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + o.days * DAY_MS),
    signingAlgorithm: SIGN,
    publicKey,
    signingKey: key,
    extensions,
  });
  return Buffer.from(cert.rawData);
}

/** A new key and a certificate for it signed by `ca` (server certificates, the API server's admin cert). */
export async function issueKeyPair(ca: KeyPairDer, o: IssueOptions): Promise<KeyPairDer> {
  const keys = await newKeys();
  const certDer = await issue(ca, keys.publicKey, o);
  return { certDer, keyDer: await keyToSec1Der(keys.privateKey) };
}

export type CsrInfo = { subject: string; hosts: string[] };

/** A verified CSR: read by the fast path (`fast`) or by @peculiar/x509 (`csr`). */
export type ReadCsr = CsrInfo & { fast?: ParsedCsr; csr?: x509.Pkcs10CertificateRequest };

/** Verifies a PKCS#10 request's signature and returns its subject and SANs. */
export async function readCsr(csrDer: Buffer): Promise<ReadCsr> {
  const fast = parseCsr(csrDer);
  if (fast !== undefined) return { subject: fast.subject, hosts: fast.hosts, fast };
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrDer);
  } catch (err) {
    throw new CertificateError('certificate request is not valid DER PKCS#10', {}, err);
  }
  if (!(await csr.verify())) throw new CertificateError('certificate request signature does not verify');
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const hosts = san === undefined ? [] : san.names.items.map((n) => n.value);
  return { csr, subject: csr.subject, hosts };
}

/**
 * Signs a CSR: SANs are copied from the request, and so is the subject unless the signer decides it (`subject`).
 * `read` is the request as readCsr returned it, when the caller looked at it already (not read twice).
 */
export async function signCsr(ca: KeyPairDer, csrDer: Buffer, usages: ExtKeyUsageName[], days: number, subject?: string, read?: ReadCsr): Promise<Buffer> {
  const info = read ?? (await readCsr(csrDer));
  const subj = subject ?? info.subject;
  if (info.fast !== undefined) {
    const der = issueFast(ca, info.fast, { subject: subj, usages, days });
    if (der !== undefined) return der;
  }
  const publicKey = info.csr?.publicKey ?? new x509.Pkcs10CertificateRequest(csrDer).publicKey;
  return issue(ca, publicKey, { subject: subj, hosts: info.hosts, usages, days });
}

/** A new key and a CSR for it. `subject` in RFC 4514 order, e.g. `CN=system:node:edge1, O=system:nodes`. */
export async function createCsr(subject: string, hosts: string[] = []): Promise<{ csrDer: Buffer; keyDer: Buffer }> {
  if (hosts.length === 0) {
    const fast = await createCsrFast(subject);
    if (fast !== undefined) return fast;
  }
  const keys = await newKeys();
  const san = sanExtension(hosts);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: SIGN,
    ...(san === undefined ? {} : { extensions: [san] }),
  });
  return { csrDer: Buffer.from(csr.rawData), keyDer: await keyToSec1Der(keys.privateKey) };
}
