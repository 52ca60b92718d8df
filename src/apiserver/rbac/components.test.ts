import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cloudcoreObjects } from './components.ts';

test('manifests/rbac/cloudcore.yaml holds the same objects the embedded server bootstraps for cloudcore', () => {
  const text = readFileSync(join(import.meta.dirname, '..', '..', '..', 'manifests', 'rbac', 'cloudcore.yaml'), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  assert.deepEqual(docs, cloudcoreObjects());
});
