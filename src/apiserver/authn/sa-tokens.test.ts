import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { API_AUDIENCES, ServiceAccountTokens } from './sa-tokens.ts';

function tokens(): ServiceAccountTokens {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new ServiceAccountTokens(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

const sa = { namespace: 'default', name: 'x', uid: 'u-1' };

test('a token verifies for its audience with the ServiceAccount claims; other audiences, other keys, tampering and expiry do not', () => {
  const t = tokens();
  const { token } = t.issue({ ...sa, audiences: API_AUDIENCES, expirationSeconds: 600 });
  const claims = t.verify(token, API_AUDIENCES);
  assert.equal(claims?.sub, 'system:serviceaccount:default:x');
  assert.deepEqual(claims?.['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'x', uid: 'u-1' } });
  assert.equal(t.verify(token, ['vault']), undefined);
  assert.equal(tokens().verify(token, API_AUDIENCES), undefined);
  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' }),
  ).toString('base64url');
  assert.equal(t.verify(`${h}.${forged}.${s}`, API_AUDIENCES), undefined);
  const expired = t.issue({ ...sa, audiences: API_AUDIENCES, expirationSeconds: -1 }).token;
  assert.equal(t.verify(expired, API_AUDIENCES), undefined);
});
