import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { children, readTlv } from './der.ts';
import { encodeName, parseCsr } from './fast-x509.ts';
import { createCA, createCsr, issueKeyPair, readCsr, signCsr } from './x509.ts';

/** The `[3]` extensions block of a certificate, as bytes. */
function extensionsOf(certDer: Buffer): string {
  const tbs = children(certDer, readTlv(certDer, 0))[0];
  assert.ok(tbs);
  const exts = children(certDer, tbs).find((t) => t.tag === 0xa3);
  assert.ok(exts);
  return certDer.subarray(exts.start, exts.end).toString('hex');
}

test('subjects are encoded byte for byte as @peculiar/x509 encodes them', () => {
  for (const s of [
    'C=CN, ST=Zhejiang, L=Hangzhou, O=system:nodes, CN=system:node:edge-1.example',
    'CN=system:node:edge1, O=system:nodes',
    'O=kubeEdge, CN=kubeedge.io',
    'CN=KubeEdge, O=KubeEdge',
    'CN=nœud_1',
  ]) {
    assert.equal(encodeName(s)?.toString('hex'), Buffer.from(new x509.Name(s).toArrayBuffer()).toString('hex'), s);
  }
  // Multi-valued or escaped names are left to the general path.
  assert.equal(encodeName('CN=a+O=b'), undefined);
  assert.equal(encodeName('CN=a\\, b'), undefined);
  assert.equal(encodeName('X=1'), undefined);
});

test('a CSR made here is read and verified by @peculiar/x509 with the same subject', async () => {
  const subject = 'C=CN, ST=Zhejiang, L=Hangzhou, O=system:nodes, CN=system:node:edge1';
  const { csrDer, keyDer } = await createCsr(subject);
  const csr = new x509.Pkcs10CertificateRequest(csrDer);
  assert.equal(csr.subject, subject);
  assert.ok(await csr.verify());
  assert.ok(keyDer.length > 0);
});

test('a certificate issued here carries what the general path writes, for a CSR with SANs from the general path', async () => {
  const ca = await createCA();
  const subject = 'CN=system:node:edge2, O=system:nodes';
  const hosts = ['edge2.local', '10.1.2.3'];
  const { csrDer } = await createCsr(subject, hosts); // with hosts: made by @peculiar/x509
  const read = await readCsr(csrDer);
  assert.ok(read.fast, 'an ECDSA CSR is read by the fast path');
  assert.equal(read.subject, subject);
  assert.deepEqual(read.hosts, hosts);
  const der = await signCsr(ca, csrDer, ['clientAuth'], 365, undefined, read);
  const cert = new X509Certificate(der);
  const caCert = new X509Certificate(ca.certDer);
  assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
  assert.equal(cert.subject, 'CN=system:node:edge2\nO=system:nodes');
  assert.equal(cert.subjectAltName, 'DNS:edge2.local, IP Address:10.1.2.3');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  assert.ok(Math.abs(days - 365) < 0.01, `valid for ${days} days`);
  // Same extensions, same bytes, as a certificate from the general path for the same request.
  const general = await issueKeyPair(ca, { subject, hosts, usages: ['clientAuth'], days: 365 });
  assert.equal(extensionsOf(der), extensionsOf(general.certDer));
  // The subject the signer decides replaces the CSR's.
  const renamed = new X509Certificate(await signCsr(ca, csrDer, ['serverAuth', 'clientAuth'], 30, 'C=CN, O=system:nodes, CN=system:node:edge2'));
  assert.equal(renamed.subject, 'C=CN\nO=system:nodes\nCN=system:node:edge2');
  assert.deepEqual(renamed.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
});

test('a CSR whose signature does not verify is refused; one that is not DER goes the general way and is refused there', async () => {
  const { csrDer } = await createCsr('CN=system:node:edge3, O=system:nodes');
  const bad = Buffer.from(csrDer);
  bad[20] = (bad[20] ?? 0) ^ 0x01; // inside the subject, which the signature covers
  assert.throws(() => parseCsr(bad), /does not verify/);
  await assert.rejects(readCsr(bad), /does not verify/);
  await assert.rejects(readCsr(Buffer.from('not a csr')), /not valid DER PKCS#10/);
});
