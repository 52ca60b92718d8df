import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { tarArchive } from '../../../src/keadm/tar.ts';

test('GNU tar reads what the ustar writer writes, long paths and odd sizes included', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-tar-'));
  try {
    const long = `${'a'.repeat(90)}/${'b'.repeat(60)}/file.txt`;
    const archive = tarArchive([
      { name: 'build', dir: true },
      { name: 'build/Dockerfile', data: Buffer.from('FROM scratch\n') },
      { name: 'dist/x.mjs', data: Buffer.alloc(1025, 120), mode: 0o755 },
      { name: long, data: Buffer.from('deep') },
      { name: 'empty', data: Buffer.alloc(0) },
    ]);
    assert.equal(archive.length % 512, 0);
    const file = path.join(dir, 'a.tar');
    writeFileSync(file, archive);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    assert.match(listing, /-rwxr-xr-x .* 1025 .*dist\/x\.mjs/);
    execFileSync('tar', ['-xf', file, '-C', dir]);
    assert.equal(readFileSync(path.join(dir, 'build/Dockerfile'), 'utf8'), 'FROM scratch\n');
    assert.equal(readFileSync(path.join(dir, long), 'utf8'), 'deep');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
