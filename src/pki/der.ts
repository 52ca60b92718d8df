import { CertificateError } from './pem.ts';

// The few DER pieces certificate issuance needs, read and written with Buffers. The generic ASN.1 library behind
// @peculiar/x509 parses and rebuilds every structure through schemas and cost the certificate service ~5 ms per
// CSR on the event loop (1,000 edges joining = 5 s); this is a few microseconds.

/** One TLV: its tag byte, where its header starts, where its value starts and ends. */
export type Tlv = { tag: number; start: number; valueStart: number; end: number };

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** The TLV at `offset`; only definite lengths (DER), and never past `limit`. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new CertificateError('DER: truncated header', { offset });
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new CertificateError('DER: multi-byte tags are not supported', { offset });
  let len = buf[offset + 1] ?? 0;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new CertificateError('DER: bad length', { offset });
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] ?? 0);
    p += n;
  }
  if (p + len > limit) throw new CertificateError('DER: value runs past its container', { offset });
  return { tag, start: offset, valueStart: p, end: p + len };
}

/** The TLVs inside a constructed TLV, in order. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.valueStart; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** A TLV of the expected tag, else a CertificateError naming what was being read. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw new CertificateError(`DER: expected ${what}`, { tag: t?.tag });
  return t;
}

export const raw = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
export const value = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.valueStart, t.end);

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...c: Buffer[]): Buffer => tlv(TAG.sequence, ...c);
export const set = (...c: Buffer[]): Buffer => tlv(TAG.set, ...c);
/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...c: Buffer[]): Buffer => tlv(0xa0 | n, ...c);
export const octets = (b: Buffer): Buffer => tlv(TAG.octetString, b);
export const bool = (v: boolean): Buffer => tlv(TAG.boolean, Buffer.from([v ? 0xff : 0]));
/** A BIT STRING of whole bytes (signatures, public keys). */
export const bits = (b: Buffer, unused = 0): Buffer => tlv(TAG.bitString, Buffer.from([unused]), b);

/** A non-negative INTEGER from big-endian bytes (a leading 0 added when the top bit is set). */
export function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && ((b[i + 1] ?? 0) & 0x80) === 0) i++;
  const v = b.subarray(i);
  return tlv(TAG.integer, ((v[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [a * 40 + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

export function oidToString(b: Buffer): string {
  const first = b[0] ?? 0;
  const out = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    const x = b[i] ?? 0;
    v = v * 128 + (x & 0x7f);
    if ((x & 0x80) === 0) {
      out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-12-02T11:30:00.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'latin1')) : tlv(TAG.generalizedTime, Buffer.from(digits, 'latin1'));
}
