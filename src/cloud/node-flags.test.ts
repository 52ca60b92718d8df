import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLOUDCORE_NODE_FLAGS } from './node-flags.ts';

test('the cloudcore image runs node with the same V8 flags the benchmarks measure', () => {
  const dockerfile = readFileSync(path.join(import.meta.dirname, '../../build/cloud/Dockerfile'), 'utf8');
  const line = dockerfile.split('\n').find((l) => l.startsWith('ENTRYPOINT'));
  assert.ok(line !== undefined, 'Dockerfile has an ENTRYPOINT');
  const argv = JSON.parse(line.slice('ENTRYPOINT'.length)) as string[];
  const node = argv.indexOf('node');
  const script = argv.findIndex((a) => a.endsWith('cloudcore.mjs'));
  assert.deepEqual(argv.slice(node + 1, script), [...CLOUDCORE_NODE_FLAGS]);
});
