// Issue 12, cloud side: kubectl logs, exec, port-forward and cp reach a pod on an edge node through the tunnel the
// edge dials out to CloudStream (real cloudcore and edgecore processes, real kubectl, a real dockerd).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { dialTunnel } from '../src/stream/index.ts';
import { startTestCloud, testCloudStream, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlEnv, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-streams-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-streams-1';
const free = async (): Promise<number> => (await bindablePort(0)) as number;
const ports = { ws: await free(), https: await free(), api: await free() };
const tunnelPort = await free();
const kubeletPort = await free();
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

const manifest = path.join(dir, 'pods.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo hello-from-the-edge; mkdir -p /www; echo pf-ok > /www/index.html; httpd -p 8080 -h /www; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere}
spec:
  nodeName: edge-streams-ghost
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
`,
);

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
});

const k = (args: string[], timeoutMs?: number) => kubectl(kubeconfig, args, timeoutMs);

/** Runs kubectl and returns its exit code and both outputs (kubectl() throws on failure). */
async function kubectlResult(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(kubectlPath() as string, ['--kubeconfig', kubeconfig, ...args], { env: kubectlEnv(), timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('kubectl logs, logs -f, attach, exec, port-forward and cp reach an edge pod through the edge-dialled tunnel', { skip, timeout: 180_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports, testCloudStream(dir, tunnelPort));
  cloud = tc.daemon;
  const edgeConfig = path.join(dir, 'edgecore.yaml');
  writeTestEdgeConfig(edgeConfig, {
    dir,
    node,
    token: tc.token,
    ports,
    kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock', readOnlyPort: String(kubeletPort) },
  });
  appendFileSync(edgeConfig, `  edgeStream: {enable: true, server: 127.0.0.1:${tunnelPort}}\n`);
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 30_000);
  await k(['apply', '-f', manifest]);
  await waitFor(async () => (await k(['get', 'pod', 'chatty', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);

  // logs and --tail
  const logs = await waitFor(async () => {
    const r = await kubectlResult(['logs', 'chatty']);
    return r.code === 0 && r.stdout.includes('hello-from-the-edge') ? r.stdout : '';
  }, 20_000);
  assert.match(logs, /^hello-from-the-edge$/m);
  const tail = await k(['logs', 'chatty', '--tail=2']);
  assert.equal(tail.trim().split('\n').length, 2, `--tail=2 gives two lines: ${tail}`);
  assert.match(tail, /^tick \d+$/m);

  // logs -f shows lines written after it started
  const follow = spawn(kubectlPath() as string, ['--kubeconfig', kubeconfig, 'logs', '-f', '--tail=1', 'chatty'], { env: kubectlEnv() });
  let followed = '';
  follow.stdout.on('data', (d: Buffer) => {
    followed += d.toString();
  });
  try {
    await waitFor(async () => (followed.match(/^tick \d+$/gm) ?? []).length >= 3, 15_000, 100);
  } finally {
    follow.kill();
  }

  // attach: the running container's output arrives on the attached stream
  const attach = spawn(kubectlPath() as string, ['--kubeconfig', kubeconfig, 'attach', 'chatty', '-c', 'app'], { env: kubectlEnv() });
  let attached = '';
  attach.stdout.on('data', (d: Buffer) => {
    attached += d.toString();
  });
  try {
    await waitFor(async () => (attached.match(/^tick \d+$/gm) ?? []).length >= 2, 15_000, 100);
  } finally {
    attach.kill();
  }

  // exec
  assert.equal((await k(['exec', 'chatty', '--', 'sh', '-c', 'echo $((6*7))'])).trim(), '42');
  const failing = await kubectlResult(['exec', 'chatty', '--', 'sh', '-c', 'exit 3']);
  assert.equal(failing.code, 3, 'the exit code of the command comes back');

  // port-forward
  const localPort = await free();
  const pf = spawn(kubectlPath() as string, ['--kubeconfig', kubeconfig, 'port-forward', 'pod/chatty', `${localPort}:8080`], { env: kubectlEnv() });
  let pfOut = '';
  pf.stdout.on('data', (d: Buffer) => {
    pfOut += d.toString();
  });
  pf.stderr.on('data', (d: Buffer) => {
    pfOut += d.toString();
  });
  try {
    const page = await waitFor(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${localPort}/index.html`, { signal: AbortSignal.timeout(3000) });
        return r.ok ? await r.text() : '';
      } catch {
        return '';
      }
    }, 20_000);
    assert.equal(page.trim(), 'pf-ok', pfOut);
  } finally {
    pf.kill();
  }

  // cp both ways (exec + tar)
  const local = path.join(dir, 'to-pod.txt');
  writeFileSync(local, 'copied through the tunnel\n');
  await k(['cp', local, 'chatty:/tmp/in.txt']);
  assert.equal((await k(['exec', 'chatty', '--', 'cat', '/tmp/in.txt'])).trim(), 'copied through the tunnel');
  const back = path.join(dir, 'from-pod.txt');
  await k(['cp', 'chatty:/tmp/in.txt', back]);
  assert.equal(readFileSync(back, 'utf8'), 'copied through the tunnel\n');

  // A pod on a node with no tunnel: an error naming the node, not someone else's tunnel.
  const ghost = await kubectlResult(['logs', 'elsewhere']);
  assert.notEqual(ghost.code, 0);
  assert.match(ghost.stderr, /edge-streams-ghost has no stream tunnel/);
  passed();
});

test('20 parallel kubectl logs -f of a container printing 1,000 lines/s leave the node Ready and a new pod starts', { skip, timeout: 120_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  const chatty = path.join(dir, 'chatty.yaml');
  writeFileSync(
    chatty,
    `apiVersion: v1
kind: Pod
metadata: {name: thousand}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "while true; do seq 1 100; usleep 100000; done"]
`,
  );
  await k(['apply', '-f', chatty]);
  await waitFor(async () => (await k(['get', 'pod', 'thousand', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);
  const counts: number[] = new Array(20).fill(0);
  const followers = counts.map((_, i) => {
    const p = spawn(kubectlPath() as string, ['--kubeconfig', kubeconfig, 'logs', '-f', '--tail=1', 'thousand'], { env: kubectlEnv() });
    p.stdout.on('data', (d: Buffer) => {
      counts[i] = (counts[i] ?? 0) + d.length;
    });
    return p;
  });
  try {
    await waitFor(async () => counts.every((c) => c > 10_000), 30_000, 200);
    // while all 20 follow: a pod created now runs, and the node stays Ready
    const late = path.join(dir, 'late.yaml');
    writeFileSync(
      late,
      `apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sleep", "100000"]
`,
    );
    await k(['apply', '-f', late]);
    await waitFor(async () => (await k(['get', 'pod', 'late', '-o', 'jsonpath={.status.phase}'])) === 'Running', 30_000);
    assert.equal(await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'True');
    const before = [...counts];
    await waitFor(async () => counts.every((c, i) => c > (before[i] ?? 0)), 10_000, 200);
    t.diagnostic(`bytes per follower: ${Math.min(...counts)}-${Math.max(...counts)}`);
  } finally {
    for (const p of followers) p.kill();
  }
  passed();
});

test("another node's certificate cannot open this node's tunnel", { skip, timeout: 60_000 }, async () => {
  // The edge's own certificate (CN=system:node:edge-streams-1), presented under the name of another node.
  const read = (f: string) => readFileSync(path.join(dir, 'edge', f));
  await assert.rejects(
    dialTunnel({
      url: `127.0.0.1:${tunnelPort}`,
      ca: read('rootCA.crt'),
      cert: read('server.crt'),
      key: read('server.key'),
      nodeName: 'edge-streams-ghost',
      purpose: 'kubelet',
    }),
    /403/, // Forbidden, as CloudHub answers a certificate of another node (EdgeIdentityPolicy)
  );
  const ghost = await kubectlResult(['logs', 'elsewhere']);
  assert.match(ghost.stderr, /has no stream tunnel/, 'the refused tunnel was not registered for the other node');
});
