import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stableJson, templateHash } from './hash.ts';
import { scaledValue } from './intstr.ts';
import { templatePatch } from './revisions.ts';

test('maxUnavailable / maxSurge: numbers as they are, percents of the total rounded as asked, defaults when absent', () => {
  assert.equal(scaledValue(2, 10, true, 1), 2);
  assert.equal(scaledValue('25%', 10, true, 1), 3);
  assert.equal(scaledValue('25%', 10, false, 1), 2);
  assert.equal(scaledValue(undefined, 10, true, '10%'), 1);
  assert.equal(scaledValue(undefined, 10, true, 0), 0);
});

test('template hashes: stable under key order, changed by the template or the collision count, in the safe alphabet', () => {
  const a = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } };
  const b = { spec: { containers: [{ image: 'i:1', name: 'c' }] }, metadata: { labels: { app: 'x' } } };
  assert.equal(stableJson(a), stableJson(b));
  assert.equal(templateHash(a, 0), templateHash(b, 0));
  assert.notEqual(templateHash(a, 0), templateHash({ ...a, spec: { containers: [{ name: 'c', image: 'i:2' }] } }, 0));
  assert.notEqual(templateHash(a, 0), templateHash(a, 1));
  assert.match(templateHash(a, 0), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test('a revision stores the template as the strategic-merge patch kubectl rollout undo applies', () => {
  assert.deepEqual(templatePatch({ spec: { containers: [] } }), { spec: { template: { spec: { containers: [] }, $patch: 'replace' } } });
});
