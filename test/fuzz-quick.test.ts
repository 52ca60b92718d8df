// The short fuzz run of CI: every target of `npm run fuzz` for a few seconds with a fixed seed (so a failure here
// repeats with the printed command), as its own process like a user runs it. Any crash, hang or 5xx fails it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

test('npm run fuzz, quick: every target, 0 crashes, 0 hangs, 0 wrong answers', { timeout: 120_000 }, async () => {
  const r = await run(process.execPath, ['fuzz/run.ts', '--seconds', '28', '--seed', '20261202'], { cwd: ROOT, maxBuffer: 16 << 20 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => err,
  );
  const out = `${r.stdout ?? ''}`;
  assert.ok(!('code' in r) || r.code === undefined || r.code === 0, `fuzz failed:\n${out}\n${r.stderr ?? ''}`);
  for (const t of ['config-edgecore', 'config-cloudcore', 'apiserver', 'patches', 'cloudhub', 'edgehub', 'certs']) {
    assert.match(out, new RegExp(`^${t} +[1-9]\\d* inputs +0 crashes +0 hangs +0 wrong answers +ok$`, 'm'), `${t} ran inputs and found nothing:\n${out}`);
  }
  assert.match(out, /fuzz: \d+ inputs, 0 crashes, 0 hangs, 0 wrong answers \(seed 20261202\)/);
});
