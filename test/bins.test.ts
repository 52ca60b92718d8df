// After `npm ci && npm run build`, `npx cloudcore|edgecore|keadm` run the bundles from the checkout on the
// pinned Node 24 (the `node` devDependency), not on whatever node the machine has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

for (const bin of ['cloudcore', 'edgecore', 'keadm', 'mapper-virtual', 'mapper-modbus']) {
  test(`npx ${bin} runs the bundle on Node 24`, async () => {
    assert.ok(existsSync(path.join(root, 'dist', `${bin}.mjs`)), 'npm run build made the bundle');
    const { stdout } = await run('npx', ['--no-install', bin, '--version'], { cwd: root, timeout: 60_000 });
    assert.match(stdout, new RegExp(`^${bin} kubeedge-ts \\d+\\.\\d+\\.\\d+ \\(node v24\\.`));
  });
}
