// The chaos suite's quick profile, as CI runs it: at least 50 faults of every kind (kill -9 cloudcore and
// edgecore, a cut cloud link, API server restarts, a full data disk, a corrupted WAL) during a rollout over
// simulated and real edges; afterwards every pod that should run runs exactly once and every acked object is on
// its edge at its latest resourceVersion. Needs root (network namespaces, iptables, tmpfs) and Docker.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { dockerAvailable } from './helpers/docker.ts';
import { skipUnless } from './helpers/skip.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const root = process.getuid?.() === 0;
const skip = skipUnless(root && has('ip') && has('iptables') && has('nsenter') && (await dockerAvailable()), 'root with ip, iptables, nsenter and Docker');

test('chaos quick profile: 0 lost, 0 duplicated over at least 50 faults of every kind', { skip, timeout: 900_000 }, async (t) => {
  // A fixed seed: CI runs the same fault plan each time, so a failure repeats with `npm run chaos -- --seed 1414`.
  const child = spawn(process.execPath, [path.join(ROOT, 'chaos/run.ts'), '--profile', 'quick', '--seed', '1414'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.diagnostic(
    out
      .split('\n')
      .filter((l) => /^(faults injected|pods checked|result):/.test(l))
      .join('\n'),
  );
  assert.equal(code, 0, out);
  const faults = /^faults injected: (.*) \(total \d+\)$/m.exec(out)?.[1] ?? '';
  const counts = [...faults.matchAll(/([a-z-]+) (\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
  assert.equal(counts.length, 6, out);
  for (const [kind, n] of counts) assert.ok(n >= 50, `${kind}: ${n} faults`);
  assert.match(out, /^result: 0 lost, 0 duplicated, 0 deletions not done, 0 stale objects, 0 stack traces, 0 crashes/m);
});
