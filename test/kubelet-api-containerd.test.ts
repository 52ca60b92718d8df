// Issue 12, edge side, on containerd: edged's kubelet API with a private real containerd (CRI). Logs come from
// the CRI log files; exec and attach are proxied to containerd's own streaming server (which negotiates the
// protocol itself: v4 for a v5-first WebSocket client, SPDY/3.1 as the API server sends it); port-forward dials
// the pod IP. Real cloudcore, edgecore, containerd and kubectl.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX_IMAGE } from './helpers/docker.ts';
import { criSkip, startTestContainerd, type TestContainerd } from './helpers/containerd.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, type Daemon } from './helpers/daemon.ts';
import { engineNeutralKubeletApiCases } from './helpers/kubelet-api-cases.ts';
import { openChannels, spdyConnect, wsExec } from './helpers/kube-stream.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || (await criSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-kubelet-cri-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-kubelet-cri-1';
const free = async (): Promise<number> => (await bindablePort(0)) as number;
const ports = { ws: await free(), https: await free(), api: await free() };
const kubeletPort = await free();
const base = `http://127.0.0.1:${kubeletPort}`;
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let containerd: TestContainerd | undefined;

const manifest = path.join(dir, 'pods.yaml');
const pod = (name: string, body: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
${body}---
`;
writeFileSync(
  manifest,
  pod(
    'talker',
    `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done"]
  - name: web
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
`,
  ) +
    pod(
      'crasher',
      `  containers:
  - name: c
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo instance-started; sleep 1; echo going-down; exit 3"]
`,
    ) +
    pod(
      'catter',
      `  containers:
  - name: cat
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["cat"]
    stdin: true
`,
    ),
);

const get = (args: string[]) => kubectl(kubeconfig, args);
const running = async (name: string) => (await get(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])) === 'Running';
async function httpText(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  await containerd?.stop();
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

describe('edged kubelet API on containerd (CRI)', { skip, timeout: 280_000 }, () => {
  before(async () => {
    containerd = await startTestContainerd();
    const tc = await startTestCloud(dir, ports);
    cloud = tc.daemon;
    const edgeConfig = path.join(dir, 'edgecore.yaml');
    writeTestEdgeConfig(edgeConfig, {
      dir,
      node,
      token: tc.token,
      ports,
      kubelet: {
        containerRuntimeEndpoint: containerd.endpoint,
        imageServiceEndpoint: containerd.endpoint,
        podLogsDir: containerd.logRoot,
        readOnlyPort: String(kubeletPort),
      },
    });
    edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'), { CHECK_EDGECORE_ENVIRONMENT: 'false' });
    await waitFor(async () => (await httpText(`${base}/healthz`)).text === 'ok', 60_000);
    await waitFor(
      async () => (await get(['get', 'node', node, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])) === String(kubeletPort),
      60_000,
    );
    await get(['apply', '-f', manifest]);
    for (const p of ['talker', 'catter']) await waitFor(() => running(p), 90_000);
  });

  test('logs: whole log, tailLines, timestamps; follow shows a new line; limitBytes', async () => {
    await waitFor(async () => (await httpText(`${base}/containerLogs/default/talker/main`)).text.includes('line 3'), 15_000);
    const all = (await httpText(`${base}/containerLogs/default/talker/main`)).text;
    assert.match(all, /^line 0\nline 1\n/);
    const tail = (await httpText(`${base}/containerLogs/default/talker/main?tailLines=2`)).text.trimEnd().split('\n');
    assert.equal(tail.length, 2);
    assert.match(tail[0] ?? '', /^line \d+$/);
    const stamped = (await httpText(`${base}/containerLogs/default/talker/main?tailLines=1&timestamps=true`)).text;
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+\n$/);
    assert.equal((await httpText(`${base}/containerLogs/default/talker/main?limitBytes=7`)).text, 'line 0\n');

    // follow: the response stays open and lines written after the request arrive on it
    const ac = new AbortController();
    const res = await fetch(`${base}/containerLogs/default/talker/main?follow=true&tailLines=0`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    assert.match(Buffer.from(value ?? new Uint8Array()).toString(), /line \d+/);
    ac.abort();
  });

  test('logs --previous after a crash; a container that never restarted has none (400)', async () => {
    const none = await httpText(`${base}/containerLogs/default/talker/main?previous=true`);
    assert.equal(none.status, 400);
    assert.match(none.text, /previous terminated container "main" in pod "talker" not found/);
    await waitFor(async () => (await httpText(`${base}/containerLogs/default/crasher/c`)).status === 200, 60_000);
    await waitFor(async () => Number(await get(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])) >= 1, 60_000);
    const prev = await httpText(`${base}/containerLogs/default/crasher/c?previous=true`);
    assert.equal(prev.status, 200);
    assert.equal(prev.text, 'instance-started\ngoing-down\n');
  });

  test("exec over WebSocket (v5 bridged to containerd's SPDY, v4 proxied): cat /etc/hostname; exit codes; stdin EOF", async () => {
    const r = await wsExec(base, '/exec/default/talker/main', ['cat', '/etc/hostname']);
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(r.stdout.trim(), 'talker');
    assert.equal(r.status?.status, 'Success');
    const bad = await wsExec(base, '/exec/default/talker/main', ['sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(bad.stderr, 'oops\n');
    assert.equal(bad.status?.reason, 'NonZeroExitCode');
    assert.deepEqual(bad.status?.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
    // stdin that ends (v5's close signal, carried to containerd as the SPDY stdin stream's FIN): wc sees EOF
    const counted = await wsExec(base, '/exec/default/talker/main', ['wc', '-l'], 'a\nb\nc\n');
    assert.equal(counted.stdout.trim(), '3');
    // a v4-only client is proxied to containerd's own WebSocket server as it came
    const v4 = await openChannels(`${base.replace('http', 'ws')}/exec/default/talker/main?command=cat&command=/etc/hostname&output=1`, ['v4.channel.k8s.io']);
    assert.equal(v4.protocol, 'v4.channel.k8s.io');
    assert.equal((await v4.closed)?.status, 'Success');
    assert.equal(v4.received.get(1)?.toString().trim(), 'talker');
  });

  engineNeutralKubeletApiCases(() => ({ base, kubeletPort }));

  test('a pod this edge does not run is 404 for logs, exec and port-forward; a bad query is 400; SPDY garbage drops only its connection; GET /pods lists ours', async () => {
    assert.equal((await httpText(`${base}/containerLogs/default/nosuch/main`)).status, 404);
    const bad = await httpText(`${base}/containerLogs/default/talker/main?tailLines=many`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /"tailLines" must be a non-negative integer/);
    await assert.rejects(openChannels(`${base.replace('http', 'ws')}/exec/default/nosuch/main?command=ls&output=1`), /HTTP 404/);
    await assert.rejects(spdyConnect(kubeletPort, '/portForward/kube-system/other', ['portforward.k8s.io']), /404/);
    // garbage where SPDY frames belong (a frame of an unknown SPDY version): the edge drops that connection, serves on
    const raw = net.connect(kubeletPort, '127.0.0.1');
    await once(raw, 'connect');
    raw.write(
      'POST /portForward/default/talker HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n',
    );
    const [answer] = (await once(raw, 'data')) as [Buffer];
    assert.match(answer.toString(), /^HTTP\/1\.1 101/);
    raw.write(Buffer.from([0x80, 0x07, 0x00, 0x01, 0, 0, 0, 0]));
    raw.resume();
    await once(raw, 'close');
    assert.equal((await httpText(`${base}/healthz`)).text, 'ok');
    const list = JSON.parse((await httpText(`${base}/pods`)).text) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(list.items.map((p) => p.metadata.name).sort(), ['catter', 'crasher', 'talker']);
  });
});
