import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeleteOptions, finalizersAfterDelete, warnsOnDelete } from './deletion.ts';
import { findResource } from './resources.ts';
import { ApiError } from './status.ts';

const rs = findResource('apps', 'v1', 'replicasets');
const job = findResource('batch', 'v1', 'jobs');

test('DeleteOptions choose the garbage-collector finalizer: Foreground, Orphan (and orphanDependents), Background', () => {
  assert.ok(rs !== undefined && job !== undefined);
  assert.deepEqual(finalizersAfterDelete(rs, [], { propagationPolicy: 'Foreground' }), ['foregroundDeletion']);
  assert.deepEqual(finalizersAfterDelete(rs, [], { propagationPolicy: 'Orphan' }), ['orphan']);
  assert.deepEqual(finalizersAfterDelete(rs, [], { orphanDependents: true }), ['orphan']);
  assert.deepEqual(finalizersAfterDelete(rs, [], { propagationPolicy: 'Background' }), []);
  assert.deepEqual(finalizersAfterDelete(rs, [], {}), []);
  // A user's finalizer stays; a second DELETE may switch the policy.
  assert.deepEqual(finalizersAfterDelete(rs, ['example.com/x', 'orphan'], { propagationPolicy: 'Foreground' }), ['example.com/x', 'foregroundDeletion']);
  assert.deepEqual(finalizersAfterDelete(rs, ['orphan'], {}), ['orphan']);
  // batch/v1 Jobs orphan by default, and kube-apiserver warns when no policy is named.
  assert.deepEqual(finalizersAfterDelete(job, [], {}), ['orphan']);
  assert.deepEqual(finalizersAfterDelete(job, [], { propagationPolicy: 'Background' }), []);
  assert.equal(warnsOnDelete(job, {}), true);
  assert.equal(warnsOnDelete(job, { propagationPolicy: 'Background' }), false);
  assert.equal(warnsOnDelete(rs, {}), false);
});

test('an unknown propagationPolicy, or one together with orphanDependents, is a 422', () => {
  assert.throws(
    () => checkDeleteOptions({ propagationPolicy: 'Sometimes' }),
    (e: unknown) => e instanceof ApiError && e.httpCode === 422 && /propagationPolicy: Unsupported value: "Sometimes"/.test(e.message),
  );
  assert.throws(() => checkDeleteOptions({ propagationPolicy: 'Orphan', orphanDependents: true }), /cannot be both set/);
  checkDeleteOptions({ propagationPolicy: 'Foreground' });
  checkDeleteOptions({});
});
