import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createCA } from '../../../pki/x509.ts';
import { caCertHash, splitJoinToken, verifyJoinJwt } from '../../../pki/token.ts';
import { memorySecretStore } from './secret-store.ts';
import { startTokenManager } from './token-manager.ts';

test('in-memory secret store: token manager stores a verifiable join token in kubeedge/tokensecret and refreshes it', async () => {
  const store = memorySecretStore();
  const ca = await createCA();
  const tm = await startTokenManager({ store, ca, refreshHours: 12, log: pino({ level: 'silent' }) });
  try {
    const t1 = tm.current();
    assert.equal((await store.get('kubeedge', 'tokensecret'))?.['tokendata']?.toString(), t1);
    const { caHash, jwt } = splitJoinToken(t1);
    assert.equal(caHash, caCertHash(ca.certDer));
    const claims = await verifyJoinJwt(jwt, ca.keyDer);
    assert.ok(claims);
    const left = claims.exp - Date.now() / 1000;
    assert.ok(left > 23.9 * 3600 && left <= 24 * 3600, `exp in ${left}s`);
    await new Promise((r) => setTimeout(r, 1100)); // exp has second resolution; make the next token differ
    const t2 = await tm.refresh();
    assert.notEqual(t2, t1);
    assert.equal(tm.current(), t2);
    assert.equal((await store.get('kubeedge', 'tokensecret'))?.['tokendata']?.toString(), t2);
  } finally {
    tm.stop();
  }
});
