// Issue 12, interactive: `kubectl exec -it <pod> -- sh` in a real terminal (tmux) against the embedded API server,
// with the edge's pod on Docker and on containerd (CRI streaming): typing `echo hi` prints hi, and resizing the
// window reaches the container's tty (`stty size`). On containerd also logs, logs --previous after a crash, and a
// plain exec. Real cloudcore and edgecore from the sources, real kubectl, tmux, dockerd and containerd.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startTestCloud, testCloudStream, writeTestEdgeConfig } from './helpers/cloud.ts';
import { criSkip, startTestContainerd, type TestContainerd } from './helpers/containerd.ts';
import { type Daemon, startDaemon, tailLogsOnFailure } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlEnv, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const tmuxOk = spawnSync('tmux', ['-V']).status === 0;
const baseSkip = skipUnless(kubectlPath() !== undefined, 'kubectl') || skipUnless(tmuxOk, 'tmux');
const free = async (): Promise<number> => (await bindablePort(0)) as number;
type Cleanups = (() => Promise<void>)[];

/** Runs a test's clean-ups, last added first, each even if another failed. */
async function cleanUp(cleanups: Cleanups): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}

/** One tmux server of our own (its socket in the test dir), one detached session running `command`. */
class Terminal {
  readonly #sock: string;
  readonly #conf: string;
  readonly #name = 'kubectl';
  constructor(dir: string) {
    this.#sock = path.join(dir, 'tmux.sock');
    this.#conf = path.join(dir, 'tmux.conf');
    // No status line: the pane is the whole window, so the size we set is the tty's size from the first moment.
    // remain-on-exit keeps the screen readable if kubectl exits.
    writeFileSync(this.#conf, 'set -g status off\nset -g remain-on-exit on\n');
  }
  async #tmux(args: string[]): Promise<string> {
    return (await run('tmux', ['-S', this.#sock, '-f', this.#conf, ...args], { env: kubectlEnv() })).stdout;
  }
  async start(command: string[], cols: number, rows: number): Promise<void> {
    await this.#tmux(['new-session', '-d', '-s', this.#name, '-x', String(cols), '-y', String(rows), ...command]);
  }
  type(text: string): Promise<string> {
    return this.#tmux(['send-keys', '-t', this.#name, '-l', text]).then(() => this.#tmux(['send-keys', '-t', this.#name, 'Enter']));
  }
  resize(cols: number, rows: number): Promise<string> {
    return this.#tmux(['resize-window', '-t', this.#name, '-x', String(cols), '-y', String(rows)]);
  }
  /** The screen's lines, trailing blanks trimmed. */
  async screen(): Promise<string[]> {
    return (await this.#tmux(['capture-pane', '-p', '-t', this.#name])).split('\n').map((l) => l.trimEnd());
  }
  async kill(): Promise<void> {
    await this.#tmux(['kill-server']).catch(() => undefined);
  }
}

/** Waits for a screen line equal to `line`; on failure shows the screen. */
async function onScreen(term: Terminal, line: string, what: string, ms: number): Promise<void> {
  try {
    await waitFor(async () => (await term.screen()).includes(line), ms, 200);
  } catch {
    assert.fail(`${what}: no line "${line}" on the screen:\n${(await term.screen()).join('\n')}`);
  }
}

/** `kubectl exec -it` under tmux: echo, then the size before and after a resize. */
async function interactiveShell(dir: string, kubeconfig: string, pod: string): Promise<void> {
  const term = new Terminal(dir);
  await term.start([kubectlPath() as string, '--kubeconfig', kubeconfig, 'exec', '-it', pod, '--', 'sh'], 100, 30);
  try {
    // The shell is up once it answers; typed before that, keys would still arrive (they are buffered by the tty).
    await term.type('echo h""i');
    await onScreen(term, 'hi', 'typing echo hi prints hi', 20_000);
    await term.type('stty size');
    await onScreen(term, '30 100', 'the tty starts at the window size', 10_000);
    await term.resize(120, 40);
    // The new size travels kubectl -> API server -> tunnel -> engine while the shell waits: ask until it is there.
    try {
      await waitFor(
        async () => {
          await term.type('clear; stty size');
          await new Promise((r) => setTimeout(r, 300));
          return (await term.screen()).includes('40 120');
        },
        15_000,
        200,
      );
    } catch {
      assert.fail(`the resize reaches the tty: no "40 120" on the screen:\n${(await term.screen()).join('\n')}`);
    }
    await term.type('exit');
  } finally {
    await term.kill();
  }
}

const podYaml = (node: string) => `apiVersion: v1
kind: Pod
metadata: {name: tty}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo started-$RANDOM; exec sleep 100000"]
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  nodeName: ${node}
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo run-$RANDOM$RANDOM; sleep 2; echo crashing; exit 1"]
`;

async function startCloudAndEdge(
  t: { diagnostic(s: string): void },
  dir: string,
  node: string,
  kubelet: Record<string, string>,
  cleanups: Cleanups,
): Promise<{ kubeconfig: string; cloud: Daemon; edge: Daemon }> {
  const ports = { ws: await free(), https: await free(), api: await free() };
  const tunnelPort = await free();
  const kubeletPort = await free();
  const tc = await startTestCloud(dir, ports, testCloudStream(dir, tunnelPort));
  cleanups.push(() => tc.daemon.stop().then(() => undefined));
  const edgeConfig = path.join(dir, 'edgecore.yaml');
  writeTestEdgeConfig(edgeConfig, { dir, node, token: tc.token, ports, kubelet: { ...kubelet, readOnlyPort: String(kubeletPort) } });
  appendFileSync(edgeConfig, `  edgeStream: {enable: true, server: 127.0.0.1:${tunnelPort}}\n`);
  const edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  cleanups.push(() => edge.stop().then(() => undefined));
  await waitFor(
    async () => (await kubectl(tc.kubeconfig, ['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True',
    45_000,
  );
  t.diagnostic(`node ${node} Ready`);
  return { kubeconfig: tc.kubeconfig, cloud: tc.daemon, edge };
}

test('Docker edge: kubectl exec -it sh under tmux echoes and follows a window resize', {
  skip: baseSkip || (await dockerSkip()),
  timeout: 150_000,
}, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-streams-tty-docker-'));
  const node = 'edge-tty-docker';
  const cleanups: Cleanups = [];
  t.after(() => cleanUp(cleanups));
  cleanups.push(async () => {
    const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
    if (left.length > 0) await run('docker', ['rm', '-f', ...left]);
  });
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const { kubeconfig } = await startCloudAndEdge(t, dir, node, { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' }, cleanups);
  writeFileSync(path.join(dir, 'pods.yaml'), podYaml(node));
  await kubectl(kubeconfig, ['apply', '-f', path.join(dir, 'pods.yaml')]);
  await waitFor(async () => (await kubectl(kubeconfig, ['get', 'pod', 'tty', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);
  await interactiveShell(dir, kubeconfig, 'tty');
  passed();
});

test('containerd edge: exec -it under tmux, logs, logs --previous after a crash, exec cat /etc/hostname', {
  skip: baseSkip || (await criSkip()),
  timeout: 180_000,
}, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-streams-tty-ctrd-'));
  const node = 'edge-tty-ctrd';
  const cleanups: Cleanups = [];
  t.after(() => cleanUp(cleanups));
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  const containerd: TestContainerd = await startTestContainerd();
  cleanups.push(() => containerd.stop());
  const endpoint = containerd.endpoint;
  const { kubeconfig } = await startCloudAndEdge(
    t,
    dir,
    node,
    {
      containerRuntimeEndpoint: endpoint,
      imageServiceEndpoint: endpoint,
      podLogsDir: `${dir}/pod-logs`,
    },
    cleanups,
  );
  const k = (args: string[]) => kubectl(kubeconfig, args);
  writeFileSync(path.join(dir, 'pods.yaml'), podYaml(node));
  await k(['apply', '-f', path.join(dir, 'pods.yaml')]);
  await waitFor(async () => (await k(['get', 'pod', 'tty', '-o', 'jsonpath={.status.phase}'])) === 'Running', 90_000);

  await interactiveShell(dir, kubeconfig, 'tty');
  const logs = await waitFor(async () => (await k(['logs', 'tty']).catch(() => '')).match(/^started-\d+$/m) !== null, 20_000);
  assert.ok(logs, 'kubectl logs shows the container output');
  const hostname = (await k(['exec', 'tty', '--', 'cat', '/etc/hostname'])).trim();
  assert.equal(hostname, 'tty', 'exec cat /etc/hostname prints the pod name');

  // The crasher restarts: --previous shows the dead container's output, without it the live one's.
  await waitFor(async () => Number(await k(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])) >= 1, 60_000);
  const previous = await waitFor(async () => {
    const out = await k(['logs', 'crasher', '--previous']).catch(() => '');
    return /^crashing$/m.test(out) ? out : '';
  }, 20_000);
  assert.match(previous, /^run-\d+\ncrashing$/m, `logs --previous: ${previous}`);
  const current = await waitFor(async () => {
    const out = await k(['logs', 'crasher']).catch(() => '');
    return /^run-\d+$/m.test(out) ? out : '';
  }, 20_000);
  assert.notEqual(current.match(/^run-\d+$/m)?.[0], previous.match(/^run-\d+$/m)?.[0], 'the current log is another run than --previous');
  passed();
});
