import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equalIgnoreHash, podTemplateHash, scaledValue } from './template.ts';

const tpl = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox:1' }] } };

test('pod-template-hash: the same template gives the same hash whatever a typed client adds; a change gives another', () => {
  // What kubectl rollout undo sends back: Go's zero values for fields that were never set.
  const roundTripped = {
    metadata: { creationTimestamp: null, labels: { app: 'web', 'pod-template-hash': 'x' } },
    spec: { containers: [{ image: 'busybox:1', name: 'main', resources: {} }] },
  };
  assert.equal(podTemplateHash(tpl), podTemplateHash(roundTripped));
  assert.ok(equalIgnoreHash(tpl, roundTripped));
  const changed = { ...tpl, spec: { containers: [{ name: 'main', image: 'busybox:2' }] } };
  assert.notEqual(podTemplateHash(tpl), podTemplateHash(changed));
  assert.equal(equalIgnoreHash(tpl, changed), false);
  assert.notEqual(podTemplateHash(tpl), podTemplateHash(tpl, 1), 'a collision count moves the name');
  assert.match(podTemplateHash(tpl), /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
});

test('maxSurge / maxUnavailable: ints as given, percents rounded up for surge and down for unavailable', () => {
  assert.equal(scaledValue('25%', 10, true), 3);
  assert.equal(scaledValue('25%', 10, false), 2);
  assert.equal(scaledValue(2, 10, true), 2);
  assert.equal(scaledValue('3', 10, true), 3);
  assert.equal(scaledValue('abc', 10, true), 0);
});
