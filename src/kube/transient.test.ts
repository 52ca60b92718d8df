import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeEdgeError } from '../core/errors.ts';
import { KubeApiError } from './rest.ts';
import { isTransientApiError } from './transient.ts';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });

test('an API server that is down or restarting is transient, however the client wrapped it', () => {
  assert.equal(isTransientApiError(refused), true);
  assert.equal(isTransientApiError(new TypeError('fetch failed', { cause: refused })), true);
  // cloudcore's secret store wraps client-node's error once more: "creating secret kubeedge/casecret failed: fetch failed"
  const wrapped = new KubeEdgeError('KE_SECRET', 'creating secret kubeedge/casecret failed', {}, { cause: new TypeError('fetch failed', { cause: refused }) });
  assert.equal(isTransientApiError(wrapped), true);
  assert.equal(isTransientApiError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
  assert.equal(isTransientApiError(new Error('socket hang up')), true);
  assert.equal(isTransientApiError(new KubeApiError('GET', '/api', 503, { message: 'unavailable' })), true);
  assert.equal(isTransientApiError(new KubeEdgeError('KE_KUBE_TIMEOUT', 'GET /api timed out')), true);
});

test('a refusal that a retry will not change is not transient', () => {
  assert.equal(isTransientApiError(new KubeApiError('POST', '/api/v1/namespaces', 403, { message: 'forbidden' })), false);
  assert.equal(isTransientApiError(new KubeApiError('GET', '/api/v1/secrets/x', 404, { message: 'not found' })), false);
  assert.equal(isTransientApiError(new Error('certificate has expired')), false);
  assert.equal(isTransientApiError(undefined), false);
});
