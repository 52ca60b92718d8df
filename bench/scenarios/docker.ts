import { execFile, spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerClient } from '../../src/containers/index.ts';
import { ensureBusyboxImage, ensureSandboxImage, SHELL_CHANGES } from '../../src/keadm/image/busybox.ts';
import { nowMs } from '../lib/api.ts';
import { startBin, startCloud, type Cloud, type Daemon } from '../lib/cloud.ts';
import { pool, sleep, waitUntil } from '../lib/pool.ts';
import { measureUsage, type Usage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, summarize, type Summary } from '../lib/stats.ts';
import { dockerEngineFloor } from './engine-floor.ts';
import { NodeWatch } from './session.ts';

const run = promisify(execFile);
const NODE = 'bench-edge-1';
const NS = 'bench-docker';
/** The same local images the tests use, made by keadm's busybox image builder (no registry needed). */
const BUSYBOX_IMAGE = 'local/busybox:1';
const PAUSE_IMAGE = 'kubeedge/pause:3.6';
const POD_COMMAND = ['sleep', '3600'];
const docker = new DockerClient();

/** Makes sure the busybox and pod sandbox images exist, built from the host's busybox-static when missing. */
export async function ensureTestImages(): Promise<void> {
  const quiet = () => {};
  await ensureBusyboxImage(docker, BUSYBOX_IMAGE, SHELL_CHANGES, quiet);
  await ensureSandboxImage(docker, PAUSE_IMAGE, quiet);
}

/** Ids of the containers (running or not) carrying the label (`key=value`). */
async function containersWithLabel(label: string): Promise<string[]> {
  return (await docker.listContainers({ all: true, labels: [label] })).map((c) => c.Id);
}

async function removeContainersWithLabel(label: string): Promise<void> {
  await Promise.all((await containersWithLabel(label)).map((id) => docker.removeContainer(id, { force: true, volumes: true }).catch(() => undefined)));
}

async function dockerUp(): Promise<boolean> {
  try {
    await run('docker', ['info'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A Docker engine, started the way this machine's notes say (vfs storage) if none answers. */
export async function ensureDocker(): Promise<string> {
  if (await dockerUp()) return 'running';
  const log = openSync('/tmp/dockerd.log', 'a');
  const d = spawn('dockerd', ['--storage-driver=vfs'], { detached: true, stdio: ['ignore', log, log] });
  d.unref();
  if (!(await waitUntil(dockerUp, 60_000, 1000))) throw new Error('dockerd did not come up (see /tmp/dockerd.log)');
  return 'started by the bench (left running)';
}

export type DockerEnv = { cloud: Cloud; edge: Daemon; watch: NodeWatch; startupMs: number; dir: string; idle?: Usage; stop(): Promise<void> };

/** cloudcore plus one real edgecore on Docker; resolves once the node is Ready, with the startup time. */
export async function startRealEdge(workDir: string): Promise<DockerEnv> {
  const dir = path.join(workDir, 'docker');
  const cloud = await startCloud({ dir, nodeLimit: 10 });
  await cloud.api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const watch = new NodeWatch(cloud.api);
  const config = path.join(dir, 'edgecore.yaml');
  writeFileSync(
    config,
    `apiVersion: edgecore.config.kubeedge.io/v1alpha2
kind: EdgeCore
database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  edged:
    hostnameOverride: ${NODE}
    rootDirectory: ${dir}/edge/kubelet
    tailoredKubeletConfig:
      containerRuntimeEndpoint: unix:///var/run/docker.sock
  edgeHub:
    token: ${cloud.token}
    httpServer: ${cloud.httpServer}
    websocket:
      server: ${cloud.wsServer}
    tlsCaFile: ${dir}/edge/ca/rootCA.crt
    tlsCertFile: ${dir}/edge/certs/server.crt
    tlsPrivateKeyFile: ${dir}/edge/certs/server.key
`,
  );
  const t0 = nowMs();
  const edge = startBin('edgecore', config, path.join(dir, 'edgecore.log'), 'info');
  const ok = await waitUntil(() => watch.ready.get(NODE) === true, 60_000, 50);
  if (!ok) {
    await edge.stop();
    await cloud.stop();
    throw new Error(`edgecore did not get Ready within 60 s (see ${dir}/edgecore.log)`);
  }
  const startupMs = (watch.firstReadyAt.get(NODE) ?? nowMs()) - t0;
  return {
    cloud,
    edge,
    watch,
    startupMs,
    dir,
    async stop() {
      watch.stop();
      await edge.stop();
      await cloud.stop();
      await removeContainersWithLabel(`io.kubeedge-ts.node=${NODE}`).catch(() => undefined);
    },
  };
}

type PodTracker = { runningAt: Map<string, number>; stop(): void };

function trackRunning(env: DockerEnv): PodTracker {
  const runningAt = new Map<string, number>();
  const w = env.cloud.api.watch(`/api/v1/namespaces/${NS}/pods`, (type, pod, at) => {
    if (type !== 'DELETED' && pod?.status?.phase === 'Running' && !runningAt.has(pod.metadata.name)) runningAt.set(pod.metadata.name, at);
  });
  return { runningAt, stop: () => w.stop() };
}

async function createPods(
  env: DockerEnv,
  names: string[],
  sentAt: Map<string, number>,
  errors: Record<string, number>,
  o: { tokens?: boolean } = {},
): Promise<void> {
  await pool(names.length, 8, async (i) => {
    const name = names[i] as string;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 0,
        tolerations: [{ operator: 'Exists' }],
        // Unset = Kubernetes' default: the ServiceAccount admission mounts a kube-api-access token volume.
        ...(o.tokens === false ? { automountServiceAccountToken: false } : {}),
        containers: [{ name: 'sleep', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: POD_COMMAND }],
      },
    };
    sentAt.set(name, nowMs());
    const r = await env.cloud.api.request('POST', `/api/v1/namespaces/${NS}/pods`, pod).catch(() => undefined);
    if (r?.status !== 201) {
      errors['create'] = (errors['create'] ?? 0) + 1;
      sentAt.delete(name);
    }
  });
}

export type FootprintOptions = { maxPods: number; step: number; idleWindowMs: number; stepWindowMs: number; podTimeoutMs: number };

/**
 * KubeEdge's memory-footprint procedure on a real edgecore with Docker: RSS and CPU of the edgecore process idle
 * with 0 pods, then after each batch of `step` busybox pods (sleep) is Running, settled, over a window.
 */
export async function footprintBench(env: DockerEnv, o: FootprintOptions, out: BenchOutcome): Promise<void> {
  out.params = {
    maxPods: o.maxPods,
    step: o.step,
    idleWindowMs: o.idleWindowMs,
    stepWindowMs: o.stepWindowMs,
    image: `${BUSYBOX_IMAGE} sleep 3600, imagePullPolicy Never`,
  };
  const errors: Record<string, number> = { create: 0, notRunning: 0 };
  out.errors = errors;
  out.rows.push({
    metric: 'edgecore start -> node Ready',
    value: `${fmt(env.startupMs)} ms`,
    note: 'process spawn (incl. certificate enrolment) to Ready in the API',
  });
  const points: Array<{ pods: number; rssMiB: number; cpuPercent: number; running: number }> = [];
  const idle = env.idle ?? (await measureIdle(env, o.idleWindowMs));
  points.push({ pods: 0, rssMiB: idle.rssMiB, cpuPercent: idle.cpuPercent, running: 0 });
  out.rows.push({
    metric: 'edgecore idle, 0 pods',
    value: `${fmt(idle.rssMiB)} MiB / ${fmt(idle.cpuPercent, 2)} %`,
    note: `RSS / CPU % of one core over ${fmt(idle.windowSec)} s, fresh edgecore before any pod`,
  });
  const tracker = trackRunning(env);
  try {
    const sentAt = new Map<string, number>();
    for (let n = o.step; n <= o.maxPods; n += o.step) {
      const names = Array.from({ length: o.step }, (_, i) => `fp-${n - o.step + i}`);
      await createPods(env, names, sentAt, errors);
      const ok = await waitUntil(() => names.every((x) => tracker.runningAt.has(x) || !sentAt.has(x)), o.podTimeoutMs, 200);
      const running = [...sentAt.keys()].filter((x) => tracker.runningAt.has(x)).length;
      if (!ok) {
        errors['notRunning'] = sentAt.size - running;
        out.rows.push({
          metric: `edgecore with ${n} pods`,
          value: 'FAILED',
          note: `${running} of ${sentAt.size} pods Running after ${o.podTimeoutMs / 1000} s; stopping the ladder`,
        });
        break;
      }
      await sleep(1000);
      const u = await measureUsage(env.edge.pid, o.stepWindowMs);
      if (u === undefined) throw new Error('edgecore exited');
      points.push({ pods: n, rssMiB: u.rssMiB, cpuPercent: u.cpuPercent, running });
      out.rows.push({
        metric: `edgecore with ${n} pods`,
        value: `${fmt(u.rssMiB)} MiB / ${fmt(u.cpuPercent, 2)} %`,
        note: `${running} Running; RSS / CPU % over ${fmt(u.windowSec)} s`,
      });
    }
  } finally {
    tracker.stop();
  }
  out.figures = { startupMs: env.startupMs, points };
}

/** RSS/CPU of the fresh edgecore, settled 3 s after Ready, before it ran any pod. */
export async function measureIdle(env: DockerEnv, windowMs: number): Promise<Usage> {
  await sleep(3000);
  const idle = await measureUsage(env.edge.pid, windowMs);
  if (idle === undefined) throw new Error('edgecore exited');
  env.idle = idle;
  return idle;
}

/** Deletes every bench pod and waits until the API and Docker have none left. */
export async function clearPods(env: DockerEnv, timeoutMs: number): Promise<boolean> {
  await env.cloud.api.request('DELETE', `/api/v1/namespaces/${NS}/pods?gracePeriodSeconds=0`).catch(() => undefined);
  const list = await env.cloud.api.request('GET', `/api/v1/namespaces/${NS}/pods`).catch(() => undefined);
  for (const p of (list?.body as { items?: Array<{ metadata: { name: string } }> } | undefined)?.items ?? []) {
    await env.cloud.api
      .request('DELETE', `/api/v1/namespaces/${NS}/pods/${p.metadata.name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })
      .catch(() => undefined);
  }
  // Gone from the API and from Docker: container removal on vfs is heavy and would load the next benchmark.
  return waitUntil(
    async () => {
      const r = await env.cloud.api.request('GET', `/api/v1/namespaces/${NS}/pods`).catch(() => undefined);
      if (((r?.body as { items?: unknown[] } | undefined)?.items?.length ?? 1) !== 0) return false;
      return (await containersWithLabel(`io.kubeedge-ts.node=${NODE}`).catch(() => ['?'])).length === 0;
    },
    timeoutMs,
    1000,
  );
}

type PodRun = { createToRunningMs: Summary; allRunningMs: number | null; errors: number };

/** `pods` pods created at once (8 create requests in flight); per pod create request to Running in the watch. */
async function podRun(env: DockerEnv, prefix: string, pods: number, timeoutMs: number, errors: Record<string, number>, tokens: boolean): Promise<PodRun> {
  const tracker = trackRunning(env);
  try {
    const names = Array.from({ length: pods }, (_, i) => `${prefix}-${i}`);
    const sentAt = new Map<string, number>();
    const before = { ...errors };
    const t0 = nowMs();
    await createPods(env, names, sentAt, errors, { tokens });
    await waitUntil(() => [...sentAt.keys()].every((x) => tracker.runningAt.has(x)), timeoutMs, 50);
    const lat: number[] = [];
    for (const [name, t] of sentAt) {
      const r = tracker.runningAt.get(name);
      if (r === undefined) errors['notRunning'] = (errors['notRunning'] ?? 0) + 1;
      else lat.push(r - t);
    }
    const last = Math.max(...names.map((x) => tracker.runningAt.get(x) ?? Number.NaN).filter(Number.isFinite));
    const errs = ['create', 'notRunning'].reduce((n, k) => n + (errors[k] ?? 0) - (before[k] ?? 0), 0);
    return { createToRunningMs: summarize(lat), allRunningMs: Number.isFinite(last) ? last - t0 : null, errors: errs };
  } finally {
    tracker.stop();
  }
}

function ratio(a: number | null, b: number): number | null {
  return a === null || !Number.isFinite(b) || b <= 0 ? null : Math.round((a / b) * 100) / 100;
}

/**
 * `pods` pods created at once on the real edge; create request to Running (watch), images already local. Right
 * before, in the same run, the engine's floor for the same containers (see engine-floor.ts); the pods' "all
 * Running" is given as a ratio to it. The default pod spec mounts a service-account token (the ServiceAccount
 * admission adds kube-api-access-*, so each pod needs a TokenRequest through the cloud and the kube-root-ca.crt
 * ConfigMap); a second round without tokens (automountServiceAccountToken: false) follows, after the first pods are gone.
 */
export async function podStartBench(env: DockerEnv, o: { pods: number; timeoutMs: number }, out: BenchOutcome): Promise<void> {
  out.params = {
    pods: o.pods,
    createConcurrency: 8,
    image: `${BUSYBOX_IMAGE} ${POD_COMMAND.join(' ')} (local, imagePullPolicy Never)`,
    tokens:
      'default spec: ServiceAccount admission mounts a kube-api-access token volume (TokenRequest + kube-root-ca.crt); withoutTokens sets automountServiceAccountToken: false',
  };
  const errors: Record<string, number> = { create: 0, notRunning: 0, floor: 0 };
  out.errors = errors;
  const floorOpts = { pods: o.pods, sandboxImage: PAUSE_IMAGE, image: BUSYBOX_IMAGE, command: POD_COMMAND };
  const floor = await dockerEngineFloor(docker, { ...floorOpts, shape: 'sandbox+app' });
  const bare = await dockerEngineFloor(docker, { ...floorOpts, shape: 'single' });
  errors['floor'] = floor.errors + bare.errors;
  const main = await podRun(env, 'ps', o.pods, o.timeoutMs, errors, true);
  const s = main.createToRunningMs;
  const engineFloor = { allRunningMs: floor.allRunningMs, p50Ms: floor.p50Ms, p99Ms: floor.p99Ms, containers: floor.containers, method: floor.method };
  const ratioToFloor = ratio(main.allRunningMs, floor.allRunningMs);
  out.figures = {
    createToRunningMs: s,
    allRunningMs: main.allRunningMs,
    engineFloor,
    ratioToFloor,
    engineFloorSingleContainer: { allRunningMs: bare.allRunningMs, p50Ms: bare.p50Ms, p99Ms: bare.p99Ms, containers: bare.containers, method: bare.method },
    withTokens: { createToRunningMs: s, allRunningMs: main.allRunningMs, ratioToFloor },
  };
  const q = main.errors > 0 ? ` (${s.n} of ${o.pods} Running; ${main.errors} errors)` : '';
  const secs = (ms: number | null) => (ms === null ? '-' : `${fmt(ms / 1000, 2)} s`);
  out.rows.push(
    {
      metric: `engine floor, ${o.pods} pods`,
      value: secs(floor.allRunningMs),
      note: `p50 ${fmt(floor.p50Ms)} ms; ${floor.containers} containers: sandbox+app per pod, Engine API, all at once, no kubelet logic`,
    },
    { metric: `engine floor, ${o.pods} bare containers`, value: secs(bare.allRunningMs), note: `p50 ${fmt(bare.p50Ms)} ms; docker run -d shape, no sandbox` },
    {
      metric: `pod start p50 / p99`,
      value: `${fmt(s.p50)} / ${fmt(s.p99)} ms`,
      note: `${o.pods} pods at once, create to Running, SA token mounted, no pull${q}`,
    },
    {
      metric: `all ${o.pods} Running after`,
      value: main.allRunningMs !== null && main.errors === 0 ? secs(main.allRunningMs) : 'NOT ALL',
      note: `${ratioToFloor ?? '-'}x the engine floor (goal <= 1.5x)`,
    },
  );
  if (!(await clearPods(env, 120_000))) {
    out.notes?.push('pods of the token round were not all gone within 120 s; no round without tokens');
    return;
  }
  const bareRun = await podRun(env, 'pn', o.pods, o.timeoutMs, errors, false);
  const ratioNo = ratio(bareRun.allRunningMs, floor.allRunningMs);
  out.figures['withoutTokens'] = { createToRunningMs: bareRun.createToRunningMs, allRunningMs: bareRun.allRunningMs, ratioToFloor: ratioNo };
  out.rows.push({
    metric: `without tokens: p50 / all`,
    value: `${fmt(bareRun.createToRunningMs.p50)} ms / ${bareRun.errors === 0 ? secs(bareRun.allRunningMs) : 'NOT ALL'}`,
    note: `automountServiceAccountToken: false; ${ratioNo ?? '-'}x the floor`,
  });
}
