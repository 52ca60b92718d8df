import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { effectOf, EXTENSIONS, HONOURED, NOT_APPLICABLE, NOT_BUILT_MODULES } from './effects.ts';

const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/config.md'), 'utf8');

test('docs/config.md names every key of the effect table, every module not built and every extension', () => {
  for (const kind of ['cloudcore', 'edgecore'] as const) {
    const keys = [
      ...Object.keys(HONOURED[kind]),
      ...Object.keys(NOT_APPLICABLE[kind]),
      ...NOT_BUILT_MODULES[kind].map((m) => `modules.${m}`),
      ...EXTENSIONS[kind],
    ];
    const missing = keys.filter((k) => !doc.includes(`\`${k}\``));
    assert.deepEqual(missing, [], `${kind}: add these to docs/config.md`);
  }
});

test('effectOf: the longest entry decides; modules not built cover all their keys', () => {
  assert.deepEqual(effectOf('edgecore', 'modules.serviceBus.port'), { kind: 'notBuilt', module: 'serviceBus' });
  assert.equal(effectOf('edgecore', 'modules.edged.tailoredKubeletConfig.evictionSoft.memory.available').kind, 'notApplicable');
  assert.equal(effectOf('edgecore', 'modules.edged.tailoredKubeletConfig.maxPods').kind, 'honoured');
  assert.equal(effectOf('cloudcore', 'modules.cloudHub.quic.enable').kind, 'honoured');
  assert.equal(effectOf('cloudcore', 'modules.cloudHub.quic.port').kind, 'notApplicable');
  assert.equal(effectOf('cloudcore', 'modules.cloudHub.fancy').kind, 'unknown');
});
