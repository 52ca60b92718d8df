import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeError, KubeEdgeError } from './errors.ts';

const root = join(import.meta.dirname, '..', '..');

test('describeError gives the message followed by its causes, once each', () => {
  const inner = new Error('ENOENT: no such file');
  const outer = new KubeEdgeError('KE_X', 'cannot read /etc/x', {}, { cause: inner });
  assert.equal(describeError(outer), 'cannot read /etc/x: ENOENT: no such file');
  assert.equal(describeError('plain'), 'plain');
  const repeats = new KubeEdgeError('KE_X', 'open failed: ENOENT: no such file', {}, { cause: inner });
  assert.equal(describeError(repeats), 'open failed: ENOENT: no such file');
});

test('every error code used in src/ is in docs/errors.md', () => {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const missing = new Set<string>();
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    // A code is a literal ('KE_X') or a prefix built at run time (`KE_X_${reason}`); `KE_X_${string}` is a type.
    for (const m of text.matchAll(/['`](KE_[A-Z][A-Z0-9_]*)(?:['`]|\$\{(?!string\}))/g)) {
      const code = m[1] ?? '';
      const prefix = code.endsWith('_') ? `\`${code}<` : `\`${code}\``;
      if (!doc.includes(prefix)) missing.add(code);
    }
  }
  assert.deepEqual([...missing], [], 'add these codes to docs/errors.md');
});
