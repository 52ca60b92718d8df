// What the bench runs for a daemon: the bundle by its path and its image's Node flags, or the sources.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { binPath, imageNodeFlags, ROOT } from './cloud.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cloud-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function dockerfile(kind: 'cloud' | 'edge', text: string): string {
  const root = path.join(dir, `${kind}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(path.join(root, 'build', kind), { recursive: true });
  writeFileSync(path.join(root, 'build', kind, 'Dockerfile'), text);
  return root;
}

test('the bundle is dist/<bin>.mjs, the sources src/cmd/<bin>.ts', () => {
  assert.equal(binPath('edgecore', 'bundles'), path.join('dist', 'edgecore.mjs'));
  assert.equal(binPath('cloudcore', 'sources'), path.join('src/cmd', 'cloudcore.ts'));
});

test("Node flags are the words between node and the bundle in the image's exec-form ENTRYPOINT", () => {
  const root = dockerfile(
    'edge',
    'FROM x\nENTRYPOINT ["tini", "--", "node", "--max-semi-space-size=1", "--max-old-space-size=64", "/usr/local/lib/kubeedge/edgecore.mjs"]\nCMD ["--config", "/c"]\n',
  );
  assert.deepEqual(imageNodeFlags('edgecore', root), ['--max-semi-space-size=1', '--max-old-space-size=64']);
});

test('no flags without them, with a shell-form ENTRYPOINT, or without a Dockerfile', () => {
  assert.deepEqual(imageNodeFlags('cloudcore', dockerfile('cloud', 'ENTRYPOINT ["tini", "--", "node", "/usr/local/lib/kubeedge/cloudcore.mjs"]\n')), []);
  assert.deepEqual(imageNodeFlags('cloudcore', dockerfile('cloud', 'ENTRYPOINT node --foo /usr/local/lib/kubeedge/cloudcore.mjs\n')), []);
  assert.deepEqual(imageNodeFlags('edgecore', path.join(dir, 'nothing')), []);
});

test("this checkout's Dockerfiles parse (whatever flags they carry are strings starting with --)", () => {
  for (const b of ['cloudcore', 'edgecore'] as const) for (const f of imageNodeFlags(b, ROOT)) assert.match(f, /^--/);
});
