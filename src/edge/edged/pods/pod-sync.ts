import { describeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import { isConflict } from '../../../containers/index.ts';
import type { ContainerInfo, ContainerRuntime, PortMapping } from '../runtime/types.ts';
import { Backoff } from './backoff.ts';
import { buildContainerSpec } from './container-spec.ts';
import { PodSetupError } from './errors.ts';
import { L_CONTAINER_HASH, L_CONTAINER_NAME, L_MANAGED, L_POD_UID, L_RESTART_COUNT, SANDBOX_NAME, containerHash, dockerName, podLabels } from './labels.ts';
import { ProbeWorker, type ProbeKind } from './probes.ts';
import type { ContainerTrack, PodState } from './state.ts';
import { shouldRestart, terminatedOf } from './status.ts';
import type { ConfigObject, Container, Pod } from './types.ts';
import { setupVolumes } from './volumes.ts';
import { podDns, type ClusterDns, type PodDns } from './dns.ts';
import { isProjectedVolume, nextTokenRefresh, writeProjectedVolumes, type IssuedToken, type TokenRequestSpec } from './projected.ts';

export type SyncContext = {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  rootDirectory: string;
  podSandboxImage: string;
  /** Cluster DNS for ClusterFirst pods (EdgeMesh's server, or clusterDNS); undefined = none. */
  clusterDns?: ClusterDns;
  getConfigMap(namespace: string, name: string): Promise<ConfigObject | undefined>;
  getSecret(namespace: string, name: string): Promise<ConfigObject | undefined>;
  /** A token of `serviceAccount` from the cloud (metamanager's `serviceaccounttoken` query). */
  getServiceAccountToken?(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken | undefined>;
  log: Logger;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Asks for another sync of this pod at `at` (ms epoch). */
  wakeAt(st: PodState, at: number): void;
  /** A probe changed its verdict. */
  probeChanged(st: PodState, track: ContainerTrack, kind: ProbeKind, ok: boolean): void;
};

export function newTrack(name: string, ctx: SyncContext): ContainerTrack {
  return {
    name,
    restartCount: 0,
    everCreated: false,
    probes: [],
    crashBackoff: new Backoff(ctx.backoffBaseMs, ctx.backoffMaxMs),
    pullBackoff: new Backoff(ctx.backoffBaseMs, ctx.backoffMaxMs),
  };
}

function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const tagged = /:[^/]+$/.test(c.image.split('@')[0] ?? '');
  return c.image.includes('@') || (tagged && !c.image.endsWith(':latest')) ? 'IfNotPresent' : 'Always';
}

/** Takes over the containers an earlier edgecore left for this pod, so nothing runs twice. */
export async function adoptPod(st: PodState, ctx: SyncContext, found?: ContainerInfo[]): Promise<void> {
  const infos = found ?? (await ctx.runtime.list({ [L_MANAGED]: ctx.nodeName, [L_POD_UID]: st.uid }));
  const newestFirst = [...infos].sort(
    (a, b) => Number(b.labels[L_RESTART_COUNT] ?? 0) - Number(a.labels[L_RESTART_COUNT] ?? 0) || b.createdAt.localeCompare(a.createdAt),
  );
  const stale: ContainerInfo[] = [];
  for (const info of newestFirst) {
    const name = info.labels[L_CONTAINER_NAME] ?? '';
    if (name === SANDBOX_NAME) {
      if (st.sandbox === undefined && info.state === 'running') {
        st.sandbox = info;
        st.sandboxAttempt = Number(info.labels[L_RESTART_COUNT] ?? 0);
      } else stale.push(info);
      continue;
    }
    const spec = st.pod.spec.containers.find((c) => c.name === name);
    const t = st.containers.get(name) ?? newTrack(name, ctx);
    if (spec && t.current && !t.previous && info.state === 'exited') {
      // The newest is current; the one before it stays for `logs --previous`.
      t.previous = info;
      continue;
    }
    if (!spec || t.current) {
      stale.push(info);
      continue;
    }
    t.current = info;
    t.everCreated = true;
    t.restartCount = Number(info.labels[L_RESTART_COUNT] ?? 0);
    st.containers.set(name, t);
    ctx.log.info({ pod: st.pod.metadata.name, container: name, id: info.id.slice(0, 12), state: info.state }, 'adopted container');
  }
  // App containers of a dead sandbox are useless (their network is gone): the sync recreates them.
  if (st.sandbox === undefined)
    for (const t of st.containers.values())
      if (t.current) {
        if (t.previous) stale.push(t.previous);
        t.previous = t.current;
        t.current = undefined;
      }
  for (const info of stale) {
    ctx.log.info({ pod: st.pod.metadata.name, id: info.id.slice(0, 12) }, 'removing stale container');
    await ctx.runtime.removeContainer(info.id);
  }
  st.adopted = true;
}

async function ensureImage(ctx: SyncContext, image: string, policy: 'Always' | 'IfNotPresent' | 'Never'): Promise<void> {
  if (policy !== 'Always' && (await ctx.runtime.imageId(image)) !== undefined) return;
  if (policy === 'Never') throw new PodSetupError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
  await ctx.runtime.pullImage(image);
}

/** Creates under a per-attempt name; a leftover with that name (an interrupted earlier try) is removed first. */
async function createNamed(ctx: SyncContext, name: string, create: () => Promise<string>): Promise<string> {
  try {
    return await create();
  } catch (err) {
    if (!isConflict(err)) throw err;
    await ctx.runtime.removeContainer(name);
    return await create();
  }
}

async function ensureSandbox(st: PodState, ctx: SyncContext): Promise<void> {
  if (st.sandbox) {
    const info = await ctx.runtime.inspect(st.sandbox.id);
    if (info?.state === 'running') {
      st.sandbox = info;
      return;
    }
    // The sandbox died: its network namespace is gone, so every app container goes with it.
    ctx.log.warn({ pod: st.pod.metadata.name }, 'pod sandbox is not running; recreating the pod');
    for (const t of st.containers.values()) {
      if (!t.current) continue;
      await ctx.runtime.stopContainer(t.current.id, 0).catch(() => undefined);
      t.current = await ctx.runtime.inspect(t.current.id);
    }
    if (info) await ctx.runtime.removeContainer(info.id);
    st.sandbox = undefined;
    st.sandboxAttempt++;
  }
  const pod = st.pod;
  await ensureImage(ctx, ctx.podSandboxImage, 'IfNotPresent');
  const ports: PortMapping[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      ports.push({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol ?? 'TCP', ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
    }
  }
  const name = dockerName(pod, SANDBOX_NAME, st.sandboxAttempt);
  const labels = { ...podLabels(pod, SANDBOX_NAME, ctx.nodeName), [L_RESTART_COUNT]: String(st.sandboxAttempt) };
  const id = await createNamed(ctx, name, () =>
    ctx.runtime.runSandbox({
      name,
      image: ctx.podSandboxImage,
      labels,
      hostname: pod.spec.hostname ?? pod.metadata.name,
      hostNetwork: pod.spec.hostNetwork ?? false,
      portMappings: ports,
      // CRI runtimes (containerd >= 1.7) only admit privileged containers into a sandbox created privileged.
      privileged: pod.spec.containers.some((c) => c.securityContext?.privileged === true),
      ...dnsOf(podDns(pod, ctx.clusterDns)),
    }),
  );
  st.sandbox = await ctx.runtime.inspect(id);
  ctx.log.info({ pod: pod.metadata.name, id: id.slice(0, 12) }, 'pod sandbox started');
}

function stopProbes(t: ContainerTrack): void {
  for (const p of t.probes) p.stop();
  t.probes = [];
  delete t.probedId;
}

function ensureProbes(st: PodState, t: ContainerTrack, c: Container, ctx: SyncContext): void {
  const cur = t.current;
  if (cur?.state !== 'running') {
    stopProbes(t);
    return;
  }
  if (t.probedId === cur.id) return;
  stopProbes(t);
  t.probedId = cur.id;
  const target = { runtime: ctx.runtime, containerId: cur.id, container: c, podIP: () => st.podIP };
  for (const [kind, probe] of [
    ['liveness', c.livenessProbe],
    ['readiness', c.readinessProbe],
  ] as const) {
    if (!probe) continue;
    const w = new ProbeWorker(kind, probe, target, (k, ok) => ctx.probeChanged(st, t, k, ok), ctx.log);
    t.probes.push(w);
    w.start();
  }
}

export function gracePeriodSeconds(pod: Pod): number {
  // A pod first heard of in a delete (the cloud's repair pass deleting one gone while the edge was away) may come
  // with metadata only: the chaos suite found every kill of such a pod failing on the missing spec.
  return pod.metadata.deletionGracePeriodSeconds ?? (pod.spec as Pod['spec'] | undefined)?.terminationGracePeriodSeconds ?? 30;
}

/** One container: observe, and if it is missing or dead, create/restart it as policy and back-off allow. */
async function syncContainer(st: PodState, c: Container, ctx: SyncContext): Promise<void> {
  const pod = st.pod;
  const t = st.containers.get(c.name) ?? newTrack(c.name, ctx);
  st.containers.set(c.name, t);
  if (t.current) t.current = await ctx.runtime.inspect(t.current.id);
  const cur = t.current;

  if (cur && cur.state === 'running') {
    const specChanged = cur.labels[L_CONTAINER_HASH] !== undefined && cur.labels[L_CONTAINER_HASH] !== containerHash(c);
    if (t.killRequested === cur.id || specChanged) {
      ctx.log.info({ pod: pod.metadata.name, container: c.name, reason: specChanged ? 'spec changed' : 'liveness probe failed' }, 'killing container');
      stopProbes(t);
      await ctx.runtime.stopContainer(cur.id, gracePeriodSeconds(pod));
      t.current = await ctx.runtime.inspect(cur.id);
      // A spec change is not a crash: restart at once (kubelet does too).
      if (specChanged) t.crashBackoff.reset();
    } else {
      delete t.waiting;
      ensureProbes(st, t, c, ctx);
      return;
    }
  }
  stopProbes(t);
  if (t.current?.state === 'created') {
    // Created by an earlier edgecore that stopped before starting it.
    await startOrRecord(t, t.current.id, ctx);
    return;
  }
  if (t.current && t.current.state !== 'exited') return;
  if (t.current) {
    const exited = t.current;
    const specChanged = exited.labels[L_CONTAINER_HASH] !== containerHash(c);
    if (!specChanged && !shouldRestart(pod, exited.exitCode)) {
      delete t.waiting;
      return;
    }
    const allowedAt = t.crashBackoff.nextAllowedAt();
    if (Date.now() < allowedAt) {
      const secs = Math.round(t.crashBackoff.currentDelayMs / 1000);
      t.waiting = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${secs}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${st.uid})${exited.error ? `: ${exited.error}` : ''}`,
      };
      ctx.wakeAt(st, allowedAt);
      return;
    }
  } else if (t.everCreated && t.prevTerminated && !shouldRestart(pod, t.prevTerminated.exitCode)) {
    return;
  }

  // Image first: a pull failure leaves the old (dead) instance in place and shows ErrImagePull/ImagePullBackOff.
  const policy = pullPolicy(c);
  const pullAllowedAt = t.pullBackoff.nextAllowedAt();
  if (t.pullError !== undefined && Date.now() < pullAllowedAt) {
    t.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}": ${t.pullError}` };
    ctx.wakeAt(st, pullAllowedAt);
    return;
  }
  try {
    await ensureImage(ctx, c.image, policy);
    delete t.pullError;
    t.pullBackoff.reset();
  } catch (err) {
    if (err instanceof PodSetupError) {
      t.waiting = { reason: err.reason, message: err.message };
      return;
    }
    t.pullError = describeError(err);
    t.pullBackoff.attempted();
    t.waiting = { reason: 'ErrImagePull', message: t.pullError };
    ctx.log.warn({ pod: pod.metadata.name, image: c.image, err: t.pullError }, 'image pull failed');
    ctx.wakeAt(st, t.pullBackoff.nextAllowedAt());
    return;
  }

  const attempt = t.everCreated ? t.restartCount + 1 : 0;
  let spec: Awaited<ReturnType<typeof buildContainerSpec>>;
  try {
    if (!st.sandbox || !st.volumePaths) return;
    const name = dockerName(pod, c.name, attempt);
    spec = await buildContainerSpec(pod, c, {
      ...ctx,
      podIP: st.podIP,
      sandboxId: st.sandbox.id,
      volumePaths: st.volumePaths,
      name,
      labels: { ...podLabels(pod, c.name, ctx.nodeName), [L_RESTART_COUNT]: String(attempt), [L_CONTAINER_HASH]: containerHash(c) },
    });
  } catch (err) {
    if (err instanceof PodSetupError) {
      t.waiting = { reason: err.reason, message: err.message };
      return;
    }
    throw err;
  }
  if (t.current) {
    t.prevTerminated = terminatedOf(t.current, ctx.runtime.name);
    // The exited instance becomes the previous one (kept for its logs); the one before it goes.
    if (t.previous) await ctx.runtime.removeContainer(t.previous.id);
    t.previous = t.current;
    delete t.current;
  }
  const s = spec;
  let id: string;
  try {
    id = await createNamed(ctx, spec.name, () => ctx.runtime.createContainer(s));
  } catch (err) {
    t.waiting = { reason: 'CreateContainerError', message: describeError(err) };
    return;
  }
  if (t.everCreated) t.crashBackoff.attempted();
  t.everCreated = true;
  t.restartCount = attempt;
  delete t.killRequested;
  await startOrRecord(t, id, ctx);
  if ((t.current as ContainerInfo | undefined)?.state === 'running') ensureProbes(st, t, c, ctx);
}

async function startOrRecord(t: ContainerTrack, id: string, ctx: SyncContext): Promise<void> {
  try {
    await ctx.runtime.startContainer(id);
    delete t.waiting;
  } catch (err) {
    // The engine refused (e.g. privileged on a host that withholds capabilities): show its words.
    t.waiting = { reason: 'RunContainerError', message: describeError(err) };
    ctx.log.warn({ container: t.name, err }, 'container start failed');
  }
  t.current = await ctx.runtime.inspect(id);
}

/** How often projected volumes re-read their configMap/secret sources when nothing else asks for it (kubelet: about a minute). */
const PROJECTED_RESYNC_MS = 60_000;

/**
 * Writes the pod's projected and downwardAPI volumes when due: first before any container starts, again when
 * the pod IP or the pod changed, a token needs renewing, or a minute passed. A failure before the first
 * container exists blocks the pod (FailedMount, as kubelet); later ones keep the files there and are logged.
 */
async function syncProjectedVolumes(st: PodState, ctx: SyncContext): Promise<boolean> {
  const pod = st.pod;
  if (!(pod.spec.volumes ?? []).some(isProjectedVolume)) return true;
  const now = Date.now();
  const key = `${st.podIP}|${pod.metadata.resourceVersion ?? ''}`;
  const p = st.projected;
  const due = p === undefined || p.key !== key || now - p.at >= PROJECTED_RESYNC_MS || (nextTokenRefresh(p.tokens) ?? Number.POSITIVE_INFINITY) <= now;
  if (!due) return true;
  const tokens = p?.tokens ?? new Map();
  try {
    await writeProjectedVolumes(ctx.rootDirectory, pod, ctx, st.podIP, tokens, now);
    st.projected = { at: now, key, tokens };
    delete st.setupError;
    const refresh = nextTokenRefresh(tokens);
    if (refresh !== undefined) ctx.wakeAt(st, refresh);
    return true;
  } catch (err) {
    if (!(err instanceof PodSetupError)) throw err;
    const started = [...st.containers.values()].some((t) => t.current !== undefined);
    if (started) {
      ctx.log.warn({ pod: pod.metadata.name, err }, 'projected volume refresh failed; files kept');
      return true;
    }
    st.setupError = { reason: 'ContainerCreating', message: err.message };
    for (const c of pod.spec.containers) {
      const t = st.containers.get(c.name) ?? newTrack(c.name, ctx);
      st.containers.set(c.name, t);
      t.waiting = st.setupError;
    }
    return false;
  }
}

/** Brings one live (not terminating) pod to its desired state. Safe to run repeatedly. */
export async function syncPod(st: PodState, ctx: SyncContext): Promise<void> {
  if (!st.adopted) await adoptPod(st, ctx);
  const pod = st.pod;
  if (!st.volumePaths) {
    try {
      st.volumePaths = await setupVolumes(ctx.rootDirectory, pod, ctx);
      delete st.setupError;
    } catch (err) {
      if (!(err instanceof PodSetupError)) throw err;
      st.setupError = { reason: 'ContainerCreating', message: err.message };
      for (const c of pod.spec.containers) {
        const t = st.containers.get(c.name) ?? newTrack(c.name, ctx);
        st.containers.set(c.name, t);
        if (!t.current) t.waiting = st.setupError;
      }
      return;
    }
  }
  await ensureSandbox(st, ctx);
  st.podIP = pod.spec.hostNetwork ? ctx.nodeIP : (st.sandbox?.ip ?? '');
  if (!(await syncProjectedVolumes(st, ctx))) return;
  for (const c of pod.spec.containers) {
    try {
      await syncContainer(st, c, ctx);
    } catch (err) {
      ctx.log.warn({ pod: pod.metadata.name, container: c.name, err }, 'container sync failed');
      const t = st.containers.get(c.name);
      if (t && !t.current) t.waiting = { reason: 'CreateContainerError', message: describeError(err) };
    }
  }
  // Containers removed from the spec (only possible through a pod update) are stopped.
  for (const [name, t] of st.containers) {
    if (pod.spec.containers.some((c) => c.name === name)) continue;
    stopProbes(t);
    if (t.current) await ctx.runtime.removeContainer(t.current.id);
    if (t.previous) await ctx.runtime.removeContainer(t.previous.id);
    st.containers.delete(name);
  }
}

/** Stops every container of the pod (SIGTERM, SIGKILL after the grace period), then removes them. */
export async function killPod(st: PodState, ctx: SyncContext): Promise<void> {
  for (const t of st.containers.values()) stopProbes(t);
  const all = await ctx.runtime.list({ [L_MANAGED]: ctx.nodeName, [L_POD_UID]: st.uid });
  const grace = gracePeriodSeconds(st.pod);
  const apps = all.filter((i) => i.labels[L_CONTAINER_NAME] !== SANDBOX_NAME);
  const sandboxes = all.filter((i) => i.labels[L_CONTAINER_NAME] === SANDBOX_NAME);
  await Promise.all(apps.filter((i) => i.state === 'running').map((i) => ctx.runtime.stopContainer(i.id, grace)));
  await Promise.all(sandboxes.filter((i) => i.state === 'running').map((i) => ctx.runtime.stopContainer(i.id, 0)));
  await Promise.all(all.map((i) => ctx.runtime.removeContainer(i.id)));
}

function dnsOf(d: PodDns | undefined): { dns?: PodDns } {
  return d === undefined ? {} : { dns: d };
}
