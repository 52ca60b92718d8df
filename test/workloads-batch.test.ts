// Issue 10's DaemonSet and Job on real edges: a real cloudcore process (embedded API server, its scheduler and
// controllers) and edgecore processes running pods through dockerd with local images, the real kubectl. A
// DaemonSet for edge nodes runs one pod per edge node; a third edge node that joins gets its pod within 15 s;
// a Job with completions 3 and parallelism 2 completes on the edges; a CronJob every minute creates Jobs that run there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { CONTROLLERS } from '../src/cloud/controllers/index.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const skip =
  skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip()) || skipUnless(CONTROLLERS['scheduler'] !== undefined, 'the embedded scheduler');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-batch-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const nodes = ['edge-batch-1', 'edge-batch-2', 'edge-batch-3'];
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
let cloud: Daemon | undefined;
const edges: Daemon[] = [];

after(async () => {
  for (const e of edges) await e.stop();
  await cloud?.stop();
  for (const n of nodes) {
    const left = await dockerPs([`label=io.kubeedge-ts.node=${n}`]).catch(() => []);
    if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  }
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const nodeReady = async (n: string) => (await get(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim() === 'True';

function startEdge(node: string, token: string): Daemon {
  const edgeDir = path.join(dir, node);
  mkdirSync(edgeDir, { recursive: true });
  const config = path.join(edgeDir, 'edgecore.yaml');
  writeTestEdgeConfig(config, { dir: edgeDir, node, token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
  const d = startDaemon('edgecore', ['--config', config], path.join(edgeDir, 'edgecore.log'));
  edges.push(d);
  return d;
}

/** Running pods by node, for pods with label app=<app>. */
async function runningByNode(app: string): Promise<Map<string, string[]>> {
  const out = await get(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase} {.metadata.name}{"\\n"}{end}']);
  const m = new Map<string, string[]>();
  for (const line of out.trim().split('\n')) {
    const [n, phase, name] = line.split(' ');
    if (n && phase === 'Running' && name) m.set(n, [...(m.get(n) ?? []), name]);
  }
  return m;
}

test('a DaemonSet for edge nodes runs one pod per edge node; a third edge node that joins gets its pod within 15 s', { skip, timeout: 400_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), ...nodes.map((n) => path.join(dir, n, 'edgecore.log'))]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  for (const n of nodes.slice(0, 2)) startEdge(n, tc.token);
  for (const n of nodes.slice(0, 2)) await waitFor(() => nodeReady(n), 60_000);

  const manifest = path.join(dir, 'ds.yaml');
  writeFileSync(
    manifest,
    `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: edge-agent}
spec:
  selector: {matchLabels: {app: edge-agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: edge-agent}}
    spec:
      nodeSelector: {node-role.kubernetes.io/edge: ""}
      terminationGracePeriodSeconds: 2
      containers:
      - name: agent
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
`,
  );
  await get(['apply', '-f', manifest]);
  const m = await waitFor(async () => {
    const byNode = await runningByNode('edge-agent');
    return byNode.size === 2 && [...byNode.values()].every((ps) => ps.length === 1) ? byNode : undefined;
  }, 120_000);
  assert.deepEqual([...(m?.keys() ?? [])].sort(), nodes.slice(0, 2));
  assert.match(await get(['rollout', 'status', 'ds/edge-agent', '--timeout=60s']), /successfully rolled out/);

  startEdge(nodes[2] as string, tc.token);
  await waitFor(() => nodeReady(nodes[2] as string), 60_000);
  const joined = Date.now();
  // The pod is bound to the new node and its container runs there within 15 s of the node being Ready.
  await waitFor(async () => (await runningByNode('edge-agent')).get(nodes[2] as string)?.length === 1, 15_000, 250);
  t.diagnostic(`daemon pod Running on the joined node ${Date.now() - joined} ms after it was Ready`);
  const containers = await dockerPs([`label=io.kubeedge-ts.node=${nodes[2]}`, 'label=io.kubernetes.container.name=agent']);
  assert.ok(containers.length >= 1, 'the daemon pod runs as a container of the new node');
  passed();
});

test('a Job with completions 3 and parallelism 2 completes on the edge nodes', { skip, timeout: 300_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), ...nodes.map((n) => path.join(dir, n, 'edgecore.log'))]);
  assert.ok(cloud !== undefined, 'the cloud of the first test runs');
  const manifest = path.join(dir, 'job.yaml');
  writeFileSync(
    manifest,
    `apiVersion: batch/v1
kind: Job
metadata: {name: crunch}
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 2
  template:
    metadata: {labels: {app: crunch}}
    spec:
      restartPolicy: Never
      nodeSelector: {node-role.kubernetes.io/edge: ""}
      containers:
      - name: work
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "sleep 2"]
`,
  );
  await get(['apply', '-f', manifest]);
  await get(['wait', '--for=condition=complete', 'job/crunch', '--timeout=180s']);
  assert.equal((await get(['get', 'job', 'crunch', '-o', 'jsonpath={.status.succeeded}'])).trim(), '3');
  const pods = (await get(['get', 'pods', '-l', 'app=crunch', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}']))
    .trim()
    .split('\n');
  assert.equal(pods.length, 3);
  for (const p of pods) {
    const [n, phase] = p.split(' ');
    assert.ok(nodes.includes(n ?? ''), `ran on an edge node (${n})`);
    assert.equal(phase, 'Succeeded');
  }
  passed();
});

test('a CronJob scheduled every minute creates a Job that runs on an edge node (real clock)', { skip, timeout: 200_000 }, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), ...nodes.map((n) => path.join(dir, n, 'edgecore.log'))]);
  assert.ok(cloud !== undefined, 'the cloud of the first test runs');
  const manifest = path.join(dir, 'cronjob.yaml');
  writeFileSync(
    manifest,
    `apiVersion: batch/v1
kind: CronJob
metadata: {name: minutely}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: minutely}}
        spec:
          restartPolicy: Never
          nodeSelector: {node-role.kubernetes.io/edge: ""}
          containers:
          - name: tick
            image: ${BUSYBOX_IMAGE}
            imagePullPolicy: IfNotPresent
            command: ["true"]
`,
  );
  await get(['apply', '-f', manifest]);
  const job = await waitFor(
    async () => (await get(['get', 'jobs', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').find((n) => n.startsWith('minutely-')),
    90_000,
    1000,
  );
  assert.match(String(job), /^minutely-\d+$/);
  await get(['wait', '--for=condition=complete', `job/${job}`, '--timeout=90s']);
  const ran = (await get(['get', 'pods', '-l', 'app=minutely', '-o', 'jsonpath={.items[0].spec.nodeName}'])).trim();
  assert.ok(nodes.includes(ran), `the CronJob's pod ran on an edge node (${ran})`);
  await waitFor(async () => (await get(['get', 'cronjob', 'minutely', '-o', 'jsonpath={.status.lastSuccessfulTime}'])).trim() !== '', 30_000);
  passed();
});
