import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gracePeriodSeconds } from './pod-sync.ts';
import type { Pod } from './types.ts';

test('the grace period of a pod known only from a delete with metadata alone: the default, no TypeError', () => {
  const bare = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } } as unknown as Pod;
  assert.equal(gracePeriodSeconds(bare), 30);
  const withDeletion = { metadata: { name: 'web', namespace: 'default', uid: 'u1', deletionGracePeriodSeconds: 2 } } as unknown as Pod;
  assert.equal(gracePeriodSeconds(withDeletion), 2);
});
