import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createCA } from './x509.ts';
import { caCertHash, createJoinToken, explainJoinJwt, splitJoinToken, TokenError, verifyJoinJwt } from './token.ts';

test('join token round trip: 4 parts, CA hash first, JWT verifies with the CA key and expires after 2x refresh', async () => {
  const ca = await createCA();
  const now = new Date('2030-01-01T00:00:00Z');
  const token = await createJoinToken(ca, 12, now);
  assert.equal(token.split('.').length, 4);
  const { caHash, jwt } = splitJoinToken(token);
  assert.equal(caHash, createHash('sha256').update(ca.certDer).digest('hex'));
  assert.equal(caHash, caCertHash(ca.certDer));
  const claims = await verifyJoinJwt(jwt, ca.keyDer, now);
  assert.ok(claims);
  assert.equal(claims.exp, now.getTime() / 1000 + 24 * 3600);
  assert.deepEqual(Object.keys(claims), ['exp']);
  const header = JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString());
  assert.equal(header.alg, 'HS256');
});

test('a tampered JWT or one signed by another CA is rejected', async () => {
  const ca = await createCA();
  const other = await createCA();
  const { jwt } = splitJoinToken(await createJoinToken(ca, 12));
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const forgedPayload = Buffer.from(JSON.stringify({ exp: 9_999_999_999 })).toString('base64url');
  assert.equal(await verifyJoinJwt(`${h}.${forgedPayload}.${s}`, ca.keyDer), false);
  assert.equal(await verifyJoinJwt(jwt, other.keyDer), false);
  assert.equal(await verifyJoinJwt(`${h}.${p}`, ca.keyDer), false);
  assert.equal(await verifyJoinJwt('garbage', ca.keyDer), false);
  const why = await explainJoinJwt(jwt, other.keyDer);
  assert.equal(why.ok, false);
});

test('an expired JWT is rejected with a reason', async () => {
  const ca = await createCA();
  const issued = new Date(Date.now() - 25 * 3600_000);
  const { jwt } = splitJoinToken(await createJoinToken(ca, 12, issued));
  assert.equal(await verifyJoinJwt(jwt, ca.keyDer), false);
  const why = await explainJoinJwt(jwt, ca.keyDer);
  assert.deepEqual(why, { ok: false, reason: 'token has expired' });
  assert.ok(await verifyJoinJwt(jwt, ca.keyDer, new Date(issued.getTime() + 23 * 3600_000)));
});

test('malformed tokens give a TokenError', () => {
  for (const bad of ['', 'abc', 'a.b.c', 'a.b.c.d.e', `${'0'.repeat(64)}..b.c`, 'zz.a.b.c']) {
    assert.throws(() => splitJoinToken(bad), TokenError, bad);
  }
});
