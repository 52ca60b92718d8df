// Issue 8 "Config truth", as its "What it must show" says: the real KubeEdge v1.15.4 `edgecore --defaultconfig`
// output, with only paths, token, server addresses and the node name edited and `edged.remoteRuntimeEndpoint`
// naming the Docker socket, runs a pod on Docker; the modules it enables that kubeedge-ts does not build are named
// once each at start; and the same file with `edgeHub.enable: false` runs the edge without touching the cloud.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const REFERENCE = path.resolve(import.meta.dirname, '../../shared/reference/configs/edgecore-v1.15.4-defaultconfig.yaml');
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-v115-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-v115-1';
const ports = { ws: 13_000, https: 13_002, api: 16_843 };
const edgeConfig = path.join(dir, 'edgecore.yaml');
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
});

/**
 * The reference file with only these edited: data and certificate paths, the token, the cloud addresses, the node
 * name (a placeholder of the machine that generated it) and the runtime endpoints (the Docker socket).
 */
function writeEdgeConfig(token: string, edgeHubEnable = true): string[] {
  const doc = parseDocument(readFileSync(REFERENCE, 'utf8'));
  const edits: [string[], unknown][] = [
    [['database', 'dataSource'], `${dir}/edge/edgecore.db`],
    [['modules', 'edged', 'rootDirectory'], `${dir}/edged`],
    [['modules', 'edged', 'hostnameOverride'], node],
    [['modules', 'edged', 'remoteRuntimeEndpoint'], DOCKER_ENDPOINT],
    [['modules', 'edged', 'remoteImageEndpoint'], DOCKER_ENDPOINT],
    [['modules', 'edgeHub', 'token'], token],
    [['modules', 'edgeHub', 'httpServer'], `https://127.0.0.1:${ports.https}`],
    [['modules', 'edgeHub', 'websocket', 'server'], `127.0.0.1:${ports.ws}`],
    [['modules', 'edgeHub', 'quic', 'server'], `127.0.0.1:${ports.ws + 1}`],
    [['modules', 'edgeHub', 'tlsCaFile'], `${dir}/edge/rootCA.crt`],
    [['modules', 'edgeHub', 'tlsCertFile'], `${dir}/edge/server.crt`],
    [['modules', 'edgeHub', 'tlsPrivateKeyFile'], `${dir}/edge/server.key`],
  ];
  if (!edgeHubEnable) edits.push([['modules', 'edgeHub', 'enable'], false]);
  for (const [p, v] of edits) {
    assert.ok(doc.hasIn(p), `${p.join('.')} is in KubeEdge's file`);
    doc.setIn(p, v);
  }
  // v1.16's key, absent from the v1.15.4 file: without it the DMI socket would go to /etc/kubeedge/dmi.sock.
  const dmi = ['modules', 'deviceTwin', 'dmiSockPath'];
  assert.ok(!doc.hasIn(dmi), 'v1.15.4 has no dmiSockPath');
  doc.setIn(dmi, `${dir}/edge/dmi.sock`);
  edits.push([dmi, 'added']);
  writeFileSync(edgeConfig, doc.toString());
  return edits.map(([p]) => p.join('.'));
}

const get = (args: string[]) => kubectl(kubeconfig, args);
const podField = async (name: string, jsonpath: string) => (await get(['get', 'pod', name, '-o', `jsonpath=${jsonpath}`])).trim();
const logLines = (d: Daemon, re: RegExp) =>
  readFileSync(d.logFile, 'utf8')
    .split('\n')
    .filter((l) => re.test(l));
const appContainer = async () => {
  const { stdout } = await run('docker', [
    'ps',
    '--no-trunc',
    '-q',
    '--filter',
    'label=io.kubernetes.pod.name=v115',
    '--filter',
    'label=io.kubernetes.container.name=sleeper',
  ]);
  return stdout.trim().split('\n')[0] ?? '';
};

test("KubeEdge v1.15.4's own edgecore --defaultconfig, endpoint on the Docker socket, runs a pod on Docker", { skip, timeout: 240_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  const edited = writeEdgeConfig(tc.token);
  t.diagnostic(`edited keys: ${edited.join(', ')}`);
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await get(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 60_000);
  const runtime = await get(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']);
  t.diagnostic(`node ${node} Ready, containerRuntimeVersion ${runtime}`);
  assert.match(runtime, /^docker:\/\//);

  await get([
    'run',
    'v115',
    `--image=${BUSYBOX_IMAGE}`,
    '--image-pull-policy=IfNotPresent',
    '--restart=Always',
    `--overrides={"spec":{"nodeName":"${node}","terminationGracePeriodSeconds":2,"containers":[{"name":"sleeper","image":"${BUSYBOX_IMAGE}","command":["sleep","3600"]}]}}`,
  ]);
  await waitFor(async () => (await podField('v115', '{.status.phase}')) === 'Running', 60_000);
  const id = await appContainer();
  assert.notEqual(id, '', 'the container runs on Docker');
  t.diagnostic(`pod v115 Running, docker container ${id.slice(0, 12)}`);

  // The file enables eventBus (mqttMode 2: an external broker nobody runs here, retried) and deviceTwin: both run.
  for (const m of ['eventbus', 'twin', 'dmi']) {
    assert.equal(logLines(edge, new RegExp(`"module":"${m}".*"msg":"module started"`)).length, 1, `${m} started`);
  }
  assert.deepEqual(logLines(edge, /module (eventBus|deviceTwin) is not built/), []);
  t.diagnostic(
    logLines(edge, /is not built in kubeedge-ts|have no effect in kubeedge-ts/)
      .map((l) => (JSON.parse(l) as { msg: string }).msg)
      .join('\n'),
  );
  passed();
});

test('the same file with edgeHub.enable: false runs the edge without a cloud link; its pod keeps running', { skip, timeout: 120_000 }, async (t) => {
  assert.ok(cloud !== undefined && edge !== undefined, 'runs on the edge of the previous test');
  const before = await appContainer();
  await edge.stop();
  await cloud.stop();
  // Something listening where the cloud was, counting who knocks.
  let knocks = 0;
  const listeners = [ports.ws, ports.https].map((p) =>
    net
      .createServer((s) => {
        knocks++;
        s.destroy();
      })
      .listen(p, '127.0.0.1'),
  );
  t.after(() => {
    for (const l of listeners) l.close();
  });
  writeEdgeConfig('', false);
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore-offline.log'));
  await waitFor(async () => logLines(edge as Daemon, /edgecore started/).length > 0, 30_000);
  assert.equal(logLines(edge, /modules\.edgeHub\.enable \(line \d+\): false: edgecore runs without a cloud link/).length, 1);
  await new Promise((r) => setTimeout(r, 8000));
  assert.equal(edge.proc.exitCode, null, 'edgecore keeps running');
  assert.equal(await appContainer(), before, 'the container was adopted from the local store, not recreated');
  assert.equal(knocks, 0, 'no connection to the cloud addresses');
});
