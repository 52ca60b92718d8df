// EdgeMesh's start-up checks through the real edgecore binary: a listenInterface that does not exist stops
// edgecore before anything starts, with one line that names the interface and how to list the valid ones.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runBin } from './helpers/daemon.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-edgemesh-checks-'));

test('listenInterface: nosuch0 stops edgecore with one line naming it and `ip -br link`', async () => {
  const cfg = path.join(dir, 'edgecore.yaml');
  writeFileSync(
    cfg,
    `database: {dataSource: ${dir}/edgecore.db}
modules:
  edged: {enable: false}
  edgeHub: {enable: false}
  deviceTwin: {dmiSockPath: ${dir}/dmi.sock}
  edgeMesh: {enable: true, listenInterface: nosuch0}
`,
  );
  const r = await runBin('edgecore', ['--config', cfg]);
  assert.equal(r.code, 1, 'an environment problem, not a config error (those exit 2)');
  const fails = r.stderr.split('\n').filter((l) => /^\s+FAIL /.test(l) && l.includes('nosuch0'));
  assert.equal(fails.length, 1, r.stderr);
  assert.match(
    fails[0] ?? '',
    /FAIL network interface: modules\.edgeMesh\.listenInterface names nosuch0, which does not exist here \(fix: .*`ip -br link` lists them\)/,
  );
  assert.doesNotMatch(r.stderr, /TypeError|at .*\.ts:\d+/, 'never a panic');
});
