import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApiForPath, openApiIndex, openApiV2 } from './openapi.ts';
import { RESOURCES } from './resources.ts';

test('OpenAPI leaves out the create-only review kinds: no PATCH path, no schema, no empty group document', () => {
  const index = openApiIndex(RESOURCES)['paths'] as Record<string, unknown>;
  assert.ok(index['apis/rbac.authorization.k8s.io/v1']);
  assert.equal(index['apis/authorization.k8s.io/v1'], undefined);
  assert.equal(openApiForPath('apis/authorization.k8s.io/v1', RESOURCES), undefined);
  const defs = Object.keys(openApiV2(RESOURCES)['definitions'] as Record<string, unknown>);
  assert.ok(defs.some((d) => d.endsWith('.ClusterRole')));
  assert.ok(!defs.some((d) => d.endsWith('SubjectAccessReview') || d.endsWith('TokenReview')));
});
