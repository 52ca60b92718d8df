import { createPublicKey, generateKeyPair, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { bits, bool, children, expect, explicit, octets, oid, oidToString, raw, readTlv, seq, set, TAG, time, tlv, uint, value, type Tlv } from './der.ts';
import { CertificateError, privateKeyObject, type KeyPairDer } from './pem.ts';

// CSR reading, CSR creation and certificate issuance with node:crypto and a small DER writer, for the shapes
// KubeEdge uses (ECDSA P-256 keys and CA, subjects of C/ST/L/O/OU/CN). Each function returns undefined for anything
// else, and x509.ts then takes the general @peculiar/x509 path, so no input is refused that was accepted before.
// Why: the certificate service signs one CSR per joining edge on cloudcore's event loop, and the generic path
// cost ~5 ms each (ASN.1 schemas, async WebCrypto); this path is well under 1 ms.

const generateKeyPairAsync = promisify(generateKeyPair);

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
} as const;

/** Signature algorithms of a CSR we verify here (the hash for crypto.verify; null = Ed25519). */
const CSR_SIG_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/** Subject attribute types written and read here, in @peculiar/x509's spelling. */
const NAME_OIDS: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };
const NAME_KEYS = new Map(Object.entries(NAME_OIDS).map(([k, v]) => [v, k]));
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
/** Values that need RFC 4514 escaping go the general way. */
const PLAIN_VALUE = /^[^,+"\\<>;=#\s](?:[^,+"\\<>;=]*[^,+"\\<>;=\s])?$/;

const EKU_OIDS = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

export type FastUsage = keyof typeof EKU_OIDS;

/** A verified CSR: its subject (string and DER), public key, and its SAN extension as sent. */
export type ParsedCsr = { subject: string; subjectDer: Buffer; spkiDer: Buffer; sanExtension: Buffer | undefined; hosts: string[] };

/** `K=V, K=V` (DER order, as @peculiar/x509 reads and writes it) to a Name; undefined if not a plain one. */
export function encodeName(subject: string): Buffer | undefined {
  const rdns: Buffer[] = [];
  for (const part of subject.split(/,\s*/)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1);
    const o = NAME_OIDS[key];
    if (eq <= 0 || o === undefined || !PLAIN_VALUE.test(v)) return undefined;
    const str = PRINTABLE.test(v) ? tlv(TAG.printableString, Buffer.from(v, 'latin1')) : tlv(TAG.utf8String, Buffer.from(v, 'utf8'));
    rdns.push(set(seq(oid(o), str)));
  }
  return rdns.length === 0 ? undefined : seq(...rdns);
}

/** A Name to `K=V, K=V`; undefined for multi-valued RDNs, other attribute types or values needing escapes. */
function decodeName(buf: Buffer, name: Tlv): string | undefined {
  const parts: string[] = [];
  for (const rdn of children(buf, name)) {
    const atvs = children(buf, expect(rdn, TAG.set, 'RDN'));
    if (atvs.length !== 1 || atvs[0] === undefined) return undefined;
    const [t, v] = children(buf, expect(atvs[0], TAG.sequence, 'AttributeTypeAndValue'));
    const key = NAME_KEYS.get(oidToString(value(buf, expect(t, TAG.oid, 'attribute type'))));
    if (key === undefined || v === undefined || (v.tag !== TAG.printableString && v.tag !== TAG.utf8String)) return undefined;
    const s = value(buf, v).toString(v.tag === TAG.utf8String ? 'utf8' : 'latin1');
    if (!PLAIN_VALUE.test(s)) return undefined;
    parts.push(`${key}=${s}`);
  }
  return parts.join(', ');
}

function hostsOf(san: Buffer): string[] {
  const ext = readTlv(san, 0);
  const [, ...rest] = children(san, ext);
  const extnValue = rest[rest.length - 1];
  if (extnValue === undefined) return [];
  const inner = value(san, extnValue);
  const hosts: string[] = [];
  for (const gn of children(inner, readTlv(inner, 0))) {
    const v = value(inner, gn);
    if (gn.tag === 0x82) hosts.push(v.toString('latin1'));
    else if (gn.tag === 0x87 && v.length === 4) hosts.push([...v].join('.'));
    else if (gn.tag === 0x87 && v.length === 16) hosts.push((v.toString('hex').match(/.{4}/g) ?? []).join(':'));
  }
  return hosts;
}

/**
 * Reads and verifies a PKCS#10 request. Undefined when it is not a shape handled here (the caller falls back);
 * a request whose signature does not verify is refused outright.
 */
export function parseCsr(der: Buffer): ParsedCsr | undefined {
  let top: Tlv[];
  let info: Tlv[];
  let infoTlv: Tlv;
  let alg: string;
  try {
    const t = readTlv(der, 0);
    if (t.tag !== TAG.sequence || t.end !== der.length) return undefined;
    top = children(der, t);
    infoTlv = expect(top[0], TAG.sequence, 'CertificationRequestInfo');
    info = children(der, infoTlv);
    alg = oidToString(value(der, expect(children(der, expect(top[1], TAG.sequence, 'signature algorithm'))[0], TAG.oid, 'algorithm')));
  } catch {
    return undefined;
  }
  const hash = CSR_SIG_HASH[alg];
  const sig = top[2];
  const [, subject, spki, attrs] = info;
  if (hash === undefined || sig === undefined || sig.tag !== TAG.bitString || der[sig.valueStart] !== 0) return undefined;
  if (subject?.tag !== TAG.sequence || spki?.tag !== TAG.sequence) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: raw(der, spki), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  const signature = der.subarray(sig.valueStart + 1, sig.end);
  const ok = verify(hash, raw(der, infoTlv), key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, signature);
  if (!ok) throw new CertificateError('certificate request signature does not verify');
  try {
    const subjectStr = decodeName(der, subject);
    if (subjectStr === undefined) return undefined;
    let sanExtension: Buffer | undefined;
    if (attrs !== undefined && attrs.tag === 0xa0) {
      for (const attr of children(der, attrs)) {
        const [type, values] = children(der, attr);
        if (type === undefined || values === undefined || oidToString(value(der, type)) !== OID.extensionRequest) continue;
        const exts = children(der, values)[0];
        if (exts === undefined) continue;
        for (const ext of children(der, exts)) {
          const extOid = children(der, ext)[0];
          if (extOid !== undefined && oidToString(value(der, extOid)) === OID.subjectAltName) sanExtension = Buffer.from(raw(der, ext));
        }
      }
    }
    return {
      subject: subjectStr,
      subjectDer: Buffer.from(raw(der, subject)),
      spkiDer: Buffer.from(raw(der, spki)),
      sanExtension,
      hosts: sanExtension === undefined ? [] : hostsOf(sanExtension),
    };
  } catch {
    return undefined;
  }
}

/** What issuing under one CA needs, read once from its certificate and key. */
type FastCa = { issuerDer: Buffer; keyId: Buffer; key: KeyObject };

const fastCas = new WeakMap<KeyPairDer, FastCa | null>();

/** The CA's subject and subject key id, and its key when it is ECDSA P-256; null when not handled here. */
function fastCa(ca: KeyPairDer): FastCa | null {
  let c = fastCas.get(ca);
  if (c !== undefined) return c;
  c = null;
  try {
    const key = privateKeyObject(ca.keyDer);
    const cert = ca.certDer;
    const tbs = children(cert, expect(children(cert, readTlv(cert, 0))[0], TAG.sequence, 'TBSCertificate'));
    const off = tbs[0]?.tag === 0xa0 ? 1 : 0;
    const subject = tbs[off + 4];
    const exts = tbs.find((t) => t.tag === 0xa3);
    let keyId: Buffer | undefined;
    if (exts !== undefined) {
      for (const ext of children(cert, children(cert, exts)[0] ?? exts)) {
        const parts = children(cert, ext);
        if (parts[0] !== undefined && oidToString(value(cert, parts[0])) === OID.subjectKeyId) {
          const extnValue = parts[parts.length - 1];
          if (extnValue !== undefined) {
            const inner = value(cert, extnValue);
            keyId = Buffer.from(value(inner, expect(readTlv(inner, 0), TAG.octetString, 'key identifier')));
          }
        }
      }
    }
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' && subject?.tag === TAG.sequence && keyId !== undefined) {
      c = { issuerDer: Buffer.from(raw(cert, subject)), keyId, key };
    }
  } catch {
    c = null;
  }
  fastCas.set(ca, c);
  return c;
}

const ECDSA_SHA256 = seq(oid(OID.ecdsaSha256));

function extension(o: string, critical: boolean, content: Buffer): Buffer {
  return critical ? seq(oid(o), bool(true), octets(content)) : seq(oid(o), octets(content));
}

/** KeyUsage digitalSignature | keyEncipherment: bits 0 and 2 (0xa0), five unused bits. */
const KEY_USAGE = extension(OID.keyUsage, true, bits(Buffer.from([0xa0]), 5));
const NOT_A_CA = extension(OID.basicConstraints, true, seq());

function serialBytes(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x10; // positive, and 16 significant bytes
  return b;
}

/**
 * A leaf certificate as x509.ts's general path writes it (same extensions in the same order): v3, random
 * positive 128-bit serial, valid from a minute ago for `days`, ECDSA-SHA256 by the CA. Undefined when the CA or
 * subject is not handled here.
 */
export function issueFast(ca: KeyPairDer, csr: ParsedCsr, o: { subject: string; usages: FastUsage[]; days: number; now?: number }): Buffer | undefined {
  const c = fastCa(ca);
  if (c === null) return undefined;
  const subjectDer = o.subject === csr.subject ? csr.subjectDer : encodeName(o.subject);
  if (subjectDer === undefined) return undefined;
  const now = o.now ?? Date.now();
  const exts = [
    NOT_A_CA,
    KEY_USAGE,
    extension(OID.extKeyUsage, false, seq(...o.usages.map((u) => oid(EKU_OIDS[u])))),
    extension(OID.authorityKeyId, false, seq(tlv(0x80, c.keyId))),
  ];
  if (csr.sanExtension !== undefined) exts.push(csr.sanExtension);
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))),
    uint(serialBytes()),
    ECDSA_SHA256,
    c.issuerDer,
    seq(time(new Date(now - 60_000)), time(new Date(now + o.days * 86_400_000))),
    subjectDer,
    csr.spkiDer,
    explicit(3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, { key: c.key, dsaEncoding: 'der' });
  return seq(tbs, ECDSA_SHA256, bits(signature));
}

/** A new P-256 key and a CSR for it without SANs; undefined when the subject is not a plain one. */
export async function createCsrFast(subject: string): Promise<{ csrDer: Buffer; keyDer: Buffer } | undefined> {
  const name = encodeName(subject);
  if (name === undefined) return undefined;
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  const info = seq(uint(Buffer.from([0])), name, publicKey.export({ format: 'der', type: 'spki' }), tlv(0xa0));
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' });
  return { csrDer: seq(info, ECDSA_SHA256, bits(signature)), keyDer: privateKey.export({ format: 'der', type: 'sec1' }) };
}
