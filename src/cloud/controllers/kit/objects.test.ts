import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourcePath, selectorMatches } from './objects.ts';

test('label selectors: matchLabels and every matchExpressions operator', () => {
  const labels = { app: 'web', tier: 'front' };
  assert.equal(selectorMatches({}, labels), true, 'empty selector matches everything');
  assert.equal(selectorMatches(undefined, labels), false, 'no selector matches nothing');
  assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'db' } }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels), true);
});

test('resource paths for core and group kinds', () => {
  assert.equal(resourcePath('v1', 'pods', 'default', 'a'), '/api/v1/namespaces/default/pods/a');
  assert.equal(resourcePath('apps/v1', 'deployments', 'ns'), '/apis/apps/v1/namespaces/ns/deployments');
  assert.equal(resourcePath('v1', 'nodes', '', 'n1'), '/api/v1/nodes/n1');
});
