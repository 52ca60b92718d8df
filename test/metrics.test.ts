// Issue 12's metrics on a real edge: cloudcore (embedded API server) and edgecore processes, dockerd and the real
// kubectl. A pod spinning a CPU and holding a few MB shows non-zero CPU and memory in `kubectl top pod` and
// `kubectl top node` (edged's engine stats reported over the cloud link, served as metrics.k8s.io), and both
// daemons answer `/metrics` in Prometheus text with the metrics operators look for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { criSkip, startTestContainerd, type TestContainerd } from './helpers/containerd.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-metrics-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-metrics-1';
const free = async () => (await bindablePort(0)) as number;
const ports = { ws: await free(), https: await free(), api: await free(), metrics: await free() };
const edgeMetricsPort = await free();
const edgeConfig = path.join(dir, 'edgecore.yaml');
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let token = '';
let containerd: TestContainerd | undefined;
let criEdge: Daemon | undefined;

after(async () => {
  await criEdge?.stop();
  await containerd?.stop();
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
});

const get = (args: string[]) => kubectl(kubeconfig, args);
const field = async (kind: string, name: string, jsonpath: string) => (await get(['get', kind, name, '-o', `jsonpath=${jsonpath}`])).trim();

/** `kubectl top` columns: CPU as `123m` or whole cores, memory as `5Mi`; 0 when absent. */
function topRow(out: string, name: string): { milliCpu: number; memMi: number } | undefined {
  const row = out.split('\n').find((l) => l.split(/\s+/)[0] === name);
  if (row === undefined) return undefined;
  const [, cpu = '', ...rest] = row.trim().split(/\s+/);
  const mem = rest.find((c) => /Mi$|Gi$|Ki$/.test(c)) ?? '';
  const milliCpu = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
  const memMi = mem.endsWith('Gi') ? Number(mem.slice(0, -2)) * 1024 : mem.endsWith('Ki') ? Number(mem.slice(0, -2)) / 1024 : Number(mem.slice(0, -2));
  return { milliCpu, memMi };
}

async function scrape(port: number): Promise<{ type: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The sum of the series of `name` whose labels include every one of `labels` (`type="pod"`). */
function total(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const l of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)/.exec(l);
    if (m?.[1] === name && labels.every((x) => (m[2] ?? '').includes(x))) sum += Number(m[3]);
  }
  return sum;
}

/** The value of one series (`name{labels}` as printed), or undefined when it is not there. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(' ')[0]);
}

/** A shell spinning on one CPU and holding a 4 MB string, on `nodeName`; resolves with its `kubectl top pod` row once non-zero. */
async function runBusyPod(name: string, nodeName: string): Promise<{ milliCpu: number; memMi: number }> {
  const overrides = JSON.stringify({ spec: { nodeName, terminationGracePeriodSeconds: 1 } });
  await get([
    'run',
    name,
    `--image=${BUSYBOX_IMAGE}`,
    '--image-pull-policy=IfNotPresent',
    `--labels=app=${name}`,
    `--overrides=${overrides}`,
    '--command',
    '--',
    'sh',
    '-c',
    'x=$(head -c 4000000 /dev/zero | tr "\\0" a); while :; do :; done',
  ]);
  await waitFor(async () => (await field('pod', name, '{.status.phase}')) === 'Running', 90_000);
  // Samples are taken every 15 s (metrics-server's resolution): the pod shows within two rounds.
  const row = await waitFor(async () => {
    const r = topRow(await get(['top', 'pod', name, '--no-headers']), name);
    return r !== undefined && r.milliCpu > 0 && r.memMi >= 3 ? r : undefined;
  }, 60_000);
  assert.ok(row !== undefined);
  return row;
}

test('kubectl top pod and top node show the busy pod and its node with non-zero CPU and memory; both daemons serve /metrics', {
  skip,
  timeout: 240_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  token = tc.token;
  writeTestEdgeConfig(edgeConfig, {
    dir,
    node,
    token: tc.token,
    ports,
    kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' },
    metricsPort: edgeMetricsPort,
  });
  edge = startDaemon('edgecore', ['--config', edgeConfig], path.join(dir, 'edgecore.log'));
  await waitFor(async () => (await field('node', node, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 60_000);

  // Discovery lists metrics.k8s.io as metrics-server registers it: that is what `kubectl top` checks first.
  const resources = JSON.parse(await get(['get', '--raw', '/apis/metrics.k8s.io/v1beta1'])) as { resources: { name: string; verbs: string[] }[] };
  assert.deepEqual(resources.resources.map((r) => [r.name, r.verbs]).sort(), [
    ['nodes', ['get', 'list']],
    ['pods', ['get', 'list']],
  ]);

  const pod = await runBusyPod('busy', node);
  assert.ok(pod.milliCpu >= 100, `a spinning shell uses a good part of a core (got ${pod.milliCpu}m)`);
  const byLabel = await get(['top', 'pod', '-l', 'app=busy', '--no-headers']);
  assert.ok(topRow(byLabel, 'busy') !== undefined, byLabel);
  assert.equal(topRow(await get(['top', 'pod', '-l', 'app=other', '--no-headers']).catch(() => ''), 'busy'), undefined);

  const nodeRow = await waitFor(async () => {
    const r = topRow(await get(['top', 'node', '--no-headers']), node);
    return r !== undefined && r.milliCpu > 0 && r.memMi > 0 ? r : undefined;
  }, 60_000);
  assert.ok(nodeRow !== undefined);
  assert.ok(nodeRow.milliCpu >= pod.milliCpu / 2, `the node's CPU includes the pod's (${nodeRow.milliCpu}m vs ${pod.milliCpu}m)`);

  const podMetrics = JSON.parse(await get(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])) as {
    kind: string;
    metadata: { labels?: Record<string, string> };
    containers: { name: string; usage: { cpu: string; memory: string } }[];
  };
  assert.equal(podMetrics.kind, 'PodMetrics');
  assert.equal(podMetrics.metadata.labels?.['app'], 'busy');
  assert.deepEqual(
    podMetrics.containers.map((c) => c.name),
    ['busy'],
  );

  // The cloud: nodes, messages both ways, the reliable queue, acks, API latency (embedded server and client).
  const c = await scrape(ports.metrics);
  assert.match(c.type, /^text\/plain; version=0\.0\.4/);
  assert.equal(value(c.text, 'kubeedge_cloudhub_connected_nodes'), 1);
  assert.ok(total(c.text, 'kubeedge_cloudhub_messages_received_total', 'type="nodemetrics"') >= 1);
  assert.ok(total(c.text, 'kubeedge_cloudhub_messages_sent_total', 'type="pod"') >= 1, 'the pod went down to the edge');
  assert.ok((value(c.text, 'kubeedge_cloudhub_ack_latency_seconds_count') ?? 0) >= 1, 'the edge acked it');
  for (const name of ['kubeedge_cloudhub_queue_depth', 'kubeedge_cloudhub_queue_depth_max', 'kubeedge_cloudhub_resends_total']) {
    assert.ok(value(c.text, name) !== undefined, name);
  }
  assert.ok((value(c.text, 'kubeedge_apiserver_request_duration_seconds_count{verb="GET",resource="pods",code="200"}') ?? 0) >= 1);
  assert.ok(total(c.text, 'kubeedge_kube_client_request_duration_seconds_count', 'code="200"') >= 1, "cloudcore's own API calls");
  assert.equal(await (await fetch(`http://127.0.0.1:${ports.metrics}/healthz`)).text(), 'ok');

  // The edge: its link, messages, pods by phase, engine calls and SQLite writes.
  const e = await scrape(edgeMetricsPort);
  assert.equal(value(e.text, 'kubeedge_edgehub_connected'), 1);
  assert.equal(value(e.text, 'kubeedge_edged_pods{phase="Running"}'), 1);
  assert.ok(total(e.text, 'kubeedge_edgehub_messages_received_total', 'type="pod"') >= 1);
  assert.ok(total(e.text, 'kubeedge_edgehub_messages_sent_total', 'type="nodemetrics"') >= 1);
  // The sandbox and the app container were started through the Engine API.
  assert.ok(
    total(e.text, 'kubeedge_edged_engine_request_duration_seconds_count', 'runtime="docker"', 'operation="POST containers/start"', 'outcome="ok"') >= 2,
  );
  assert.ok(total(e.text, 'kubeedge_metamanager_sqlite_write_duration_seconds_count', 'operation="put"') >= 1);
  assert.equal(await (await fetch(`http://127.0.0.1:${edgeMetricsPort}/healthz`)).text(), 'ok');
  passed();
});

test('the same on containerd: kubectl top shows a busy pod of a CRI edge (ListContainerStats)', {
  skip: skip || (await criSkip()),
  timeout: 180_000,
}, async (t) => {
  assert.ok(cloud !== undefined && token !== '', 'the cloud of the test above');
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore-cri.log')]);
  containerd = await startTestContainerd();
  const criNode = 'edge-metrics-cri';
  const criDir = path.join(dir, 'cri');
  const file = path.join(dir, 'edgecore-cri.yaml');
  const kubelet = { containerRuntimeEndpoint: containerd.endpoint, imageServiceEndpoint: containerd.endpoint, podLogsDir: containerd.logRoot };
  writeTestEdgeConfig(file, { dir: criDir, node: criNode, token, ports, kubelet, metricsPort: await free() });
  criEdge = startDaemon('edgecore', ['--config', file], path.join(dir, 'edgecore-cri.log'));
  await waitFor(async () => (await field('node', criNode, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 60_000);
  const pod = await runBusyPod('busy-cri', criNode);
  assert.ok(pod.milliCpu >= 100, `a spinning shell uses a good part of a core (got ${pod.milliCpu}m)`);
  const nodes = await waitFor(async () => {
    const out = await get(['top', 'node', '--no-headers']);
    const r = topRow(out, criNode);
    return r !== undefined && r.milliCpu > 0 && r.memMi > 0 ? out : undefined;
  }, 60_000);
  assert.ok(topRow(nodes ?? '', node) !== undefined, 'both edges report');
  passed();
});
