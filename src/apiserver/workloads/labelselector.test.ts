import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSelector, selectorEmpty, selectorMatches } from './labelselector.ts';

const sel = {
  matchLabels: { tier: 'web', app: 'shop' },
  matchExpressions: [
    { key: 'env', operator: 'In', values: ['prod', 'canary'] },
    { key: 'legacy', operator: 'DoesNotExist' },
    { key: 'zone', operator: 'Exists' },
    { key: 'track', operator: 'NotIn', values: ['beta'] },
  ],
};

test('a LabelSelector prints as kube-apiserver writes it into Scale status.selector: sorted by key', () => {
  assert.equal(formatSelector(sel), 'app=shop,env in (canary,prod),!legacy,tier=web,track notin (beta),zone');
  assert.equal(formatSelector({ matchLabels: { app: 'web' } }), 'app=web');
  assert.equal(formatSelector({}), '');
});

test('matchLabels and every matchExpressions operator match a label set', () => {
  const labels = { app: 'shop', tier: 'web', env: 'prod', zone: 'a' };
  assert.equal(selectorMatches(sel, labels), true);
  assert.equal(selectorMatches(sel, { ...labels, env: 'dev' }), false);
  assert.equal(selectorMatches(sel, { ...labels, legacy: 'yes' }), false);
  assert.equal(selectorMatches(sel, { app: 'shop', tier: 'web', env: 'prod' }), false);
  assert.equal(selectorMatches(sel, { ...labels, track: 'beta' }), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: 'x' }), false);
  assert.equal(selectorEmpty({ matchLabels: {} }), true);
  assert.equal(selectorEmpty(sel), false);
});
