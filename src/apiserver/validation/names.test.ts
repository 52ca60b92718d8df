import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findResource } from '../resources.ts';
import { nameProblem } from './names.ts';

test("object names are DNS subdomains; RBAC names are any path segment, so 'system:' roles stay valid", () => {
  const cm = findResource('', 'v1', 'configmaps');
  const role = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles');
  assert.ok(cm !== undefined && role !== undefined);
  assert.equal(nameProblem(cm, 'kube-root-ca.crt'), undefined);
  for (const bad of ['a..b', 'a.-b', 'Upper', 'system:discovery', 'x'.repeat(254)]) assert.notEqual(nameProblem(cm, bad), undefined, bad);
  for (const good of ['system:discovery', 'system:controller:Node_X', 'x'.repeat(300)]) assert.equal(nameProblem(role, good), undefined, good);
  assert.equal(nameProblem(role, '..'), "may not be '..'");
  assert.equal(nameProblem(role, 'a/b'), "may not contain '/'");
  assert.equal(nameProblem(role, '50%'), "may not contain '%'");
});
