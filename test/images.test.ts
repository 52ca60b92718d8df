// Issue 4, images and the single-node container path: the local base image (made once, no registry), both
// images built through the Engine API, cloudcore in a container serving /ca.crt with a working kubeconfig,
// edgecore joined with least privilege, and reset leaving nothing of ours behind. Real dockerd, real kubectl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { DockerClient } from '../src/containers/index.ts';
import { dockerSkip } from './helpers/docker.ts';
import { caServed } from '../src/keadm/init.ts';
import { runBin } from './helpers/daemon.ts';
import { kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const skip = (await dockerSkip()) || skipUnless(kubectlPath() !== undefined, 'kubectl');
const docker = new DockerClient();
const instance = `imgtest${process.pid}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'ke-images-'));
const ports = { ws: 22000, https: 22002, api: 22443, tunnel: 22004 };

after(async () => {
  if (skip === false) await runBin('keadm', ['reset', '--force', '--instance', instance]);
  rmSync(root, { recursive: true, force: true });
});

async function keadm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runBin('keadm', args);
  if (r.code !== 0) process.stderr.write(`keadm ${args.join(' ')} -> ${r.code}\n${r.stdout}\n${r.stderr}\n`);
  return r;
}

test('keadm image base makes the local base image once (a second run skips it)', { skip, timeout: 900_000 }, async (t) => {
  const r = await keadm(['image', 'base']);
  assert.equal(r.code, 0);
  const second = await keadm(['image', 'base']);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /kubeedge-ts\/node-base:24-bookworm exists \(\d+\.\d MB\)/);
  assert.match(second.stdout, /present/);
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    'kubeedge-ts/node-base:24-bookworm',
    '-c',
    'node --version; command -v tini; command -v iptables',
  ]);
  assert.match(stdout, /^v24\./);
  assert.match(stdout, /\/tini\n.*\/iptables/s);
  t.diagnostic(second.stdout.trim().split('\n')[0] ?? '');
});

test('keadm image build builds every image (cloudcore, edgecore, the two mappers) from the local base and reports their sizes', {
  skip,
  timeout: 900_000,
}, async (t) => {
  const r = await keadm(['image', 'build']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /on kubeedge-ts\/node-base:24-bookworm/);
  for (const kind of ['cloudcore', 'edgecore', 'mapper-virtual', 'mapper-modbus']) {
    const line = new RegExp(`kubeedge-ts/${kind}:\\S+\\t(\\d+\\.\\d) MB\\t(\\d+\\.\\d) s`).exec(r.stdout);
    assert.ok(line, `a size line for ${kind}`);
    t.diagnostic(`${kind}: ${line[1]} MB, built in ${line[2]} s`);
  }
  // Entry points as KubeEdge's.
  const inspect = JSON.parse((await run('docker', ['image', 'inspect', 'kubeedge-ts/edgecore:0.1.0-dev'])).stdout) as Array<{
    Config: { Entrypoint: string[]; Cmd: string[] };
  }>;
  assert.deepEqual(inspect[0]?.Config.Entrypoint, ['tini', '--', 'node', '--max-semi-space-size=1', '/usr/local/lib/kubeedge/edgecore.mjs']);
  assert.deepEqual(inspect[0]?.Config.Cmd, ['--config', '/etc/kubeedge/config/edgecore.yaml']);
  // each mapper image carries its own bundle and starts it
  const version = await run('docker', ['run', '--rm', 'kubeedge-ts/mapper-modbus:0.1.0-dev', '--version']);
  assert.match(version.stdout, /^mapper-modbus kubeedge-ts /);
});

test('keadm init runs cloudcore in a container; join runs edgecore with NET_ADMIN+NET_RAW, host network, same-path mounts; reset removes it all', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const cloudDir = path.join(root, 'cloud');
  const init = await keadm([
    'init',
    '--instance',
    instance,
    '--config-dir',
    cloudDir,
    '--advertise-address',
    '127.0.0.1',
    '--websocket-port',
    String(ports.ws),
    '--https-port',
    String(ports.https),
    '--apiserver-port',
    String(ports.api),
    '--tunnel-port',
    String(ports.tunnel),
  ]);
  assert.equal(init.code, 0);
  const kubeConfig = path.join(cloudDir, 'kubeconfig');
  assert.match(init.stdout, new RegExp(`kubectl --kubeconfig ${kubeConfig} get nodes`));
  assert.equal(await caServed(ports.https), true, 'the cloud image serves /ca.crt on the published port');
  const tok = await keadm(['gettoken', '--kube-config', kubeConfig]);
  assert.equal(tok.code, 0);
  const token = tok.stdout.trim();
  assert.equal(token.split('.').length, 4);

  const cloudInspect = await docker.inspectContainer(`${instance}-cloudcore`);
  assert.equal(cloudInspect.HostConfig.RestartPolicy?.Name, 'unless-stopped');
  assert.equal(cloudInspect.Config.Labels?.['io.kubeedge-ts.role'], 'cloudcore');

  const node = `img-edge-${process.pid}`;
  const state = path.join(root, node);
  const join = await keadm([
    'join',
    '--instance',
    instance,
    '--cloudcore-ipport',
    `127.0.0.1:${ports.ws}`,
    '--certport',
    String(ports.https),
    '--token',
    token,
    '--node-name',
    node,
    '--state-root',
    state,
    '--kube-config',
    kubeConfig,
  ]);
  assert.equal(join.code, 0);
  assert.match(join.stdout, new RegExp(`node ${node} is Ready`));
  const nodes = await kubectl(kubeConfig, ['get', 'nodes']);
  assert.match(nodes, new RegExp(`${node}\\s+Ready`));

  const edge = `${instance}-edgecore-${node}`;
  const i = await docker.inspectContainer(edge);
  assert.deepEqual([...(i.HostConfig.CapAdd ?? [])].sort(), ['NET_ADMIN', 'NET_RAW']);
  assert.notEqual(i.HostConfig.Privileged, true, 'not privileged');
  assert.equal(i.HostConfig.NetworkMode, 'host');
  const mounts = (i as unknown as { Mounts: Array<{ Source: string; Destination: string }> }).Mounts;
  const sock = mounts.find((m) => m.Destination === '/var/run/docker.sock');
  assert.equal(sock?.Source, '/var/run/docker.sock', 'the engine socket is mounted at the same path');
  for (const d of ['etc', 'data', 'pods']) {
    const p = path.join(state, d);
    assert.ok(
      mounts.some((m) => m.Source === p && m.Destination === p),
      `${p} mounted at the same path`,
    );
  }
  const { stdout: nat } = await run('docker', ['exec', edge, 'iptables', '-t', 'nat', '-L', '-n']);
  assert.match(nat, /Chain PREROUTING/);

  const reset = await keadm(['reset', '--force', '--instance', instance]);
  assert.equal(reset.code, 0);
  t.diagnostic(reset.stdout.trim().replace(/\n/g, '; '));
  assert.deepEqual(await docker.listContainers({ all: true, labels: [`io.kubeedge-ts.instance=${instance}`] }), []);
  const vols = (await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.kubeedge-ts.instance=${instance}`])).stdout.trim();
  assert.equal(vols, '');
  assert.equal(existsSync(state), false, 'state directories removed');
  const chains = (await run('iptables', ['-t', 'nat', '-S'])).stdout;
  assert.doesNotMatch(chains, /EDGE-MESH|KUBEEDGE-TS/);
  await waitFor(async () => !(await caServed(ports.https)), 10_000);
});

test('the cloudcore image runs correctly as PID 1: zombies are reaped, SIGTERM stops it cleanly', { skip, timeout: 120_000 }, async (t) => {
  const name = `ke-pid1-${process.pid}`;
  const cfgDir = mkdtempSync(path.join(os.tmpdir(), 'ke-pid1-'));
  writeFileSync(
    path.join(cfgDir, 'cloudcore.yaml'),
    `modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: /tmp/ke/ca.crt
    tlsCAKeyFile: /tmp/ke/ca.key
    tlsCertFile: /tmp/ke/s.crt
    tlsPrivateKeyFile: /tmp/ke/s.key
  apiServer: {dataDir: /tmp/ke/api, adminKubeConfig: /tmp/ke/admin.kubeconfig}
`,
  );
  try {
    await run('docker', ['run', '-d', '--name', name, '-v', `${cfgDir}:/etc/kubeedge/config:ro`, 'kubeedge-ts/cloudcore:0.1.0-dev']);
    await waitFor(async () => (await run('docker', ['logs', name])).stderr.includes('cloudcore started'), 60_000);
    // An orphan whose parent is gone is re-parented to PID 1; only an init that reaps leaves no zombie behind.
    await run('docker', ['exec', name, 'sh', '-c', '(sleep 0.2 &) ; true']);
    await new Promise((r) => setTimeout(r, 1500));
    const { stdout: states } = await run('docker', ['exec', name, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | cut -d" " -f2,3']);
    assert.doesNotMatch(states, / Z$/m, `no zombie processes:\n${states}`);
    const stopping = Date.now();
    await run('docker', ['stop', '-t', '20', name]);
    const stoppedIn = Date.now() - stopping;
    const { stdout } = await run('docker', ['inspect', '-f', '{{.State.ExitCode}}', name]);
    assert.equal(stdout.trim(), '0', 'SIGTERM reached cloudcore, which shut down and exited 0');
    assert.ok(stoppedIn < 15_000, `stopped well before the 20 s kill (${stoppedIn} ms)`);
    t.diagnostic(`docker stop took ${stoppedIn} ms`);
  } finally {
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
    rmSync(cfgDir, { recursive: true, force: true });
  }
});
