import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// The Node running this test is the pinned Node 24 (npm test runs on it); the child runs the config CLI from the sources.
const NODE = process.execPath;
const CLI = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/config/cli.ts')).href;
let dir = '';

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ke-config-cli-'));
  // the tiny program a daemon is: load or exit, then print what it got
  writeFileSync(
    path.join(dir, 'run.mjs'),
    `import { loadOrExit } from ${JSON.stringify(CLI)};
const [kind, file] = process.argv.slice(2);
const { config, warnings } = loadOrExit(kind, file);
for (const w of warnings) process.stderr.write('warning: ' + w + '\\n');
process.stdout.write(JSON.stringify({ heartbeat: config.modules.edgeHub?.heartbeat, nodeLimit: config.modules.cloudHub?.nodeLimit }));
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(kind: string, file: string) {
  const r = spawnSync(NODE, [path.join(dir, 'run.mjs'), kind, file], { encoding: 'utf8', env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

test('a valid config loads: exit 0, warnings returned for unknown keys', () => {
  const f = write('ok.yaml', 'modules:\n  edgeHub:\n    heartbeat: 20\n    surprise: 1\n');
  const r = run('edgecore', f);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { heartbeat: 20 });
  assert.equal(r.stderr, 'warning: modules.edgeHub.surprise (line 4): unknown key, ignored\n');
});

test('an invalid config exits 2 with one line per problem: path, line, found, valid', () => {
  const f = write(
    'bad.yaml',
    'apiVersion: edgecore.config.kubeedge.io/v1alpha2\nkind: EdgeCore\nmodules:\n  edgeHub:\n    enable: true\n    token: x\n    heartbeat: -3\n  eventBus:\n    mqttMode: 9\n',
  );
  const r = run('edgecore', f);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `edgecore: invalid config ${f}:\n` +
      '  modules.edgeHub.heartbeat (line 7): must be a positive integer number of seconds, got -3\n' +
      '  modules.eventBus.mqttMode (line 9): must be an integer from 0 to 2 (0 internal broker, 1 both, 2 external broker), got 9\n',
  );
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/); // no stack trace
});

test('cloudcore: nodeLimit 0 and both-port problems exit 2', () => {
  const f = write('cloud.yaml', 'modules:\n  cloudHub:\n    nodeLimit: 0\n    https:\n      port: -1\n');
  const r = run('cloudcore', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^cloudcore: invalid config .*cloud\.yaml:\n/);
  assert.match(r.stderr, /modules\.cloudHub\.nodeLimit \(line 3\): must be a positive integer number of nodes, got 0/);
  assert.match(r.stderr, /modules\.cloudHub\.https\.port \(line 5\): must be a port number 1-65535, got -1/);
});

test('edgeHub with both websocket and quic exits 2', () => {
  const f = write('both.yaml', 'modules:\n  edgeHub:\n    websocket:\n      enable: true\n    quic:\n      enable: true\n');
  const r = run('edgecore', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /modules\.edgeHub\.websocket\.enable \(line 4\): exactly one of websocket\.enable and quic\.enable must be true/);
});

test('invalid hostnameOverride exits 2', () => {
  const f = write('host.yaml', 'modules:\n  edged:\n    hostnameOverride: Not_A_Node\n');
  const r = run('edgecore', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /modules\.edged\.hostnameOverride \(line 3\): must be a valid node name .*got "Not_A_Node"/);
});

test('YAML syntax error exits 2 with the line', () => {
  const f = write('syntax.yaml', 'modules:\n  edgeHub:\n    heartbeat: 1\n    heartbeat: 2\n');
  const r = run('edgecore', f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\n {2}file \(line 4\): YAML syntax error: Map keys must be unique\n/);
});

test('a missing file exits 2 and says how to get a starting point', () => {
  const f = path.join(dir, 'nope.yaml');
  const r = run('cloudcore', f);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `cloudcore: invalid config ${f}:\n  ${f}: no such file\n  fix: pass --config FILE or create it; \`cloudcore --minconfig > FILE\` writes a starting point\n`,
  );
});

test('an unreadable path and an empty file exit 2', () => {
  const d = path.join(dir, 'adir.yaml');
  mkdirSync(d);
  const r1 = run('edgecore', d);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /is a directory/);
  const empty = write('empty.yaml', '');
  const r2 = run('edgecore', empty);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /the file is empty\n {2}fix: pass --config FILE or create it; `edgecore --minconfig > FILE`/);
  if (process.getuid?.() !== 0) {
    const locked = write('locked.yaml', 'modules: {}\n');
    chmodSync(locked, 0o000);
    const r3 = run('edgecore', locked);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /permission denied/);
  }
});
