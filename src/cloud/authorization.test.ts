import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizationPolicy } from './authorization.ts';

test("cloudHub.authorization keeps KubeEdge's meaning: only enable without debug refuses anything", () => {
  const node = [{ node: { enable: true } }];
  assert.deepEqual(authorizationPolicy(undefined), { allowSharedCerts: true, nodeAuthorizer: 'audit' });
  assert.deepEqual(authorizationPolicy({ enable: false, debug: false, modes: node }), { allowSharedCerts: true, nodeAuthorizer: 'audit' });
  assert.deepEqual(authorizationPolicy({ enable: true, debug: true, modes: node }), { allowSharedCerts: true, nodeAuthorizer: 'audit' });
  assert.deepEqual(authorizationPolicy({ enable: true, debug: false, modes: node }), { allowSharedCerts: false, nodeAuthorizer: 'enforce' });
  assert.deepEqual(authorizationPolicy({ enable: true, debug: false, modes: [{ node: { enable: false } }] }), {
    allowSharedCerts: false,
    nodeAuthorizer: 'off',
  });
});
