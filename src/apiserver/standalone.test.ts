import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('the embedded API server stands alone: nothing under src/apiserver imports cloud, edge, keadm or daemon code', () => {
  const offenders: string[] = [];
  for (const f of tsFiles(import.meta.dirname)) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(join(f, '..'), spec)).split('/')[0];
      if (['cloud', 'edge', 'keadm', 'cmd'].includes(target ?? '')) offenders.push(`${relative(SRC, f)} -> ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
