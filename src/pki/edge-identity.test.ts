import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { pino } from 'pino';
import { EdgeIdentityPolicy, DEFAULT_ENROLMENT_GRACE_MS } from './edge-identity.ts';
import { nodeSubject } from './node-identity.ts';
import { createCA, issueKeyPair } from './x509.ts';

const log = pino({ level: 'silent' });

test('a node certificate of a node with no Node object is good only within the enrolment window', async () => {
  const ca = await createCA();
  const cert = new X509Certificate((await issueKeyPair(ca, { subject: nodeSubject('n1'), usages: ['clientAuth'], days: 30 })).certDer);
  const issued = Date.parse(cert.validFrom);
  let now = issued + 60_000;
  const p = new EdgeIdentityPolicy({ allowSharedCerts: true, nodeExists: async () => false, now: () => now, log });
  assert.deepEqual(await p.check('n1', cert), { ok: true, identity: 'node' });
  now = issued + DEFAULT_ENROLMENT_GRACE_MS + 1;
  const late = await p.check('n1', cert);
  assert.equal(late.ok, false);
  assert.equal(!late.ok && late.refusal, 'node_deleted');
  // The same certificate is fine again once the Node exists.
  const back = new EdgeIdentityPolicy({ allowSharedCerts: true, nodeExists: async () => true, now: () => now, log });
  assert.deepEqual(await back.check('n1', cert), { ok: true, identity: 'node' });
  // An API server that cannot answer does not lock the node out.
  const down = new EdgeIdentityPolicy({ allowSharedCerts: true, nodeExists: () => Promise.reject(new Error('ECONNREFUSED')), now: () => now, log });
  assert.deepEqual(await down.check('n1', cert), { ok: true, identity: 'node' });
  assert.deepEqual(p.stats().refused, { cert_node_mismatch: 0, shared_cert: 0, node_deleted: 1 });
});

test('a node certificate never speaks for another node; a shared one only while allowed', async () => {
  const ca = await createCA();
  const named = new X509Certificate((await issueKeyPair(ca, { subject: nodeSubject('n1'), usages: ['clientAuth'], days: 1 })).certDer);
  const shared = new X509Certificate((await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 })).certDer);
  const open = new EdgeIdentityPolicy({ allowSharedCerts: true, log });
  const mismatch = await open.check('n2', named);
  assert.equal(!mismatch.ok && mismatch.refusal, 'cert_node_mismatch');
  assert.deepEqual(await open.check('n2', shared), { ok: true, identity: 'shared' });
  assert.deepEqual(await open.check('n3', shared), { ok: true, identity: 'shared' });
  assert.deepEqual(open.stats().sharedCertNodes, ['n2', 'n3']);
  const strict = new EdgeIdentityPolicy({ allowSharedCerts: false, log });
  const refused = await strict.check('n2', shared);
  assert.equal(!refused.ok && refused.refusal, 'shared_cert');
  assert.deepEqual(await strict.check('n1', named), { ok: true, identity: 'node' });
});
