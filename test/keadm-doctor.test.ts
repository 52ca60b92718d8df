// Issue 4: `keadm doctor` and edgecore's start-up checks turn a missing engine socket or interface into one
// line naming the problem and the fix, with a non-zero exit, never a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runBin } from './helpers/daemon.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An edgecore.yaml whose every path is in the test's directory, none in the host's /etc/kubeedge or /var/lib. */
function edgeConfig(name: string, edged: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: edgecore.config.kubeedge.io/v1alpha2
kind: EdgeCore
database:
  dataSource: ${dir}/${name}/edgecore.db
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged:
    hostnameOverride: doctor-${name}
    rootDirectory: ${dir}/${name}/pods
${edged}
  edgeHub:
    httpServer: https://127.0.0.1:1
    tlsCaFile: ${dir}/${name}/ca/rootCA.crt
    tlsCertFile: ${dir}/${name}/certs/server.crt
    tlsPrivateKeyFile: ${dir}/${name}/certs/server.key
    websocket:
      server: 127.0.0.1:1
`,
  );
  return file;
}

/** Doctor's checks of host facts (capabilities, iptables, free disk, clock): they pass or fail with the host. */
const HOST_FACTS = /^FAIL (capabilities|iptables|disk space|clock):/;

test('keadm doctor --edge with an unreachable engine socket exits 1 with one line naming it and the fix', async () => {
  // A config of the test's own (not /etc/kubeedge/config/edgecore.yaml of the host), endpoint from the flag.
  const cfg = edgeConfig('socket', '');
  const r = await runBin('keadm', ['doctor', '--edge', '--config', cfg, '--runtime-endpoint', 'unix:///nonexistent.sock']);
  assert.equal(r.code, 1);
  const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
  const lines = fails.filter((l) => !HOST_FACTS.test(l));
  assert.equal(lines.length, 1, r.stdout);
  assert.match(lines[0]!, /^FAIL engine socket: \/nonexistent\.sock does not exist \(fix: .*-v \/nonexistent\.sock:\/nonexistent\.sock/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('keadm doctor --edge with a configured interface that does not exist exits 1 naming it', async () => {
  const cfg = edgeConfig('iface', '    customInterfaceName: nosuch0\n    tailoredKubeletConfig:\n      containerRuntimeEndpoint: unix:///nonexistent.sock');
  const r = await runBin('keadm', ['doctor', '--edge', '--config', cfg]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL network interface: modules\.edged\.customInterfaceName names nosuch0, which does not exist here \(fix: .*lo/m);
});

test('keadm doctor --help documents the exit codes', async () => {
  const r = await runBin('keadm', ['doctor', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--runtime-endpoint/);
  assert.match(r.stdout, /Exit codes: 0 nothing would break, 1 something would/);
});

test('edgecore with a missing engine socket and interface stops at start: exit 1, one line each with the fix', async () => {
  const cfg = edgeConfig('start', '    customInterfaceName: nosuch0\n    tailoredKubeletConfig:\n      containerRuntimeEndpoint: unix:///nonexistent.sock');
  const r = await runBin('edgecore', ['--config', cfg]);
  assert.equal(r.code, 1);
  const fails = r.stderr.split('\n').filter((l) => /^\s+FAIL /.test(l));
  assert.equal(fails.length, 2, r.stderr);
  assert.match(fails[0]!, /FAIL engine socket: \/nonexistent\.sock does not exist \(fix: /);
  assert.match(fails[1]!, /FAIL network interface: .*nosuch0.*\(fix: /);
  assert.doesNotMatch(r.stderr, /TypeError|at .*\.ts:\d+/, 'never a panic');
});

test('edgecore with an invalid config still exits 2 (config errors are not environment errors)', async () => {
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'apiVersion: edgecore.config.kubeedge.io/v1alpha2\nkind: EdgeCore\nmodules:\n  edged:\n    maxContainerCount: many\n');
  const r = await runBin('edgecore', ['--config', file]);
  assert.equal(r.code, 2);
});

test('CHECK_EDGECORE_ENVIRONMENT=false skips the start-up checks', async () => {
  const cfg = edgeConfig('skip', '    enable: false\n    customInterfaceName: nosuch0');
  // Past the checks, this config stops at the next hurdle (no join token): proof the checks did not run.
  const skipped = await runBin('edgecore', ['--config', cfg], { CHECK_EDGECORE_ENVIRONMENT: 'false' });
  assert.doesNotMatch(skipped.stderr, /environment checks failed|nosuch0/);
  assert.match(skipped.stderr, /token/i);
  const withChecks = await runBin('edgecore', ['--config', cfg]);
  assert.equal(withChecks.code, 1);
  assert.match(withChecks.stderr, /environment checks failed[^\n]*\n\s+FAIL network interface: .*nosuch0/);
});
