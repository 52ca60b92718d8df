import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createCA, issueKeyPair } from './x509.ts';
import { SHARED_EDGE_CN, isSharedEdgeCert, nodeIdentity, nodeNameFromCert, nodeSubject } from './node-identity.ts';

test('a node certificate names its node; the shared KubeEdge certificate names none', async () => {
  const ca = await createCA();
  const named = await issueKeyPair(ca, { subject: nodeSubject('edge-a'), usages: ['clientAuth'], days: 1 });
  const shared = await issueKeyPair(ca, { subject: `O=kubeEdge, CN=${SHARED_EDGE_CN}`, usages: ['clientAuth'], days: 1 });
  assert.equal(nodeNameFromCert(new X509Certificate(named.certDer)), 'edge-a');
  assert.equal(nodeNameFromCert(new X509Certificate(shared.certDer)), undefined);
  assert.equal(isSharedEdgeCert(new X509Certificate(shared.certDer)), true);
  assert.equal(isSharedEdgeCert(new X509Certificate(named.certDer)), false);
});

test('a system:node CN without the system:nodes group is not a node identity', () => {
  assert.equal(nodeNameFromCert({ subject: 'O=evil\nCN=system:node:edge-a' }), undefined);
  assert.equal(nodeNameFromCert({ subject: 'O=system:nodes\nCN=system:node:' }), undefined);
  assert.deepEqual(nodeIdentity({ subject: 'O=x\nCN=someone' }), { kind: 'other', cn: 'someone' });
});
