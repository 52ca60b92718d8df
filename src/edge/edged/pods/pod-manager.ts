import type { Logger } from '../../../core/log.ts';
import type { ContainerRuntime } from '../runtime/types.ts';
import { L_MANAGED, L_POD_UID } from './labels.ts';
import { adoptPod, killPod, syncPod, type SyncContext } from './pod-sync.ts';
import type { ContainerTrack, PodState } from './state.ts';
import { buildStatus } from './status.ts';
import type { ConfigObject, Pod, PodStatus } from './types.ts';
import { refreshConfigVolumes, removePodDir } from './volumes.ts';

/** A running pod as the kubelet API needs it: which engine containers to stream from, and where the pod listens. */
export type PodRef = {
  uid: string;
  namespace: string;
  name: string;
  podIP: string;
  hostNetwork: boolean;
  sandboxId?: string;
  /** Spec order; the first is the default container (kubectl picks it when none is named). */
  containers: Array<{ name: string; currentId?: string; previousId?: string }>;
};

export type PodManagerOptions = {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  /** Must be visible to the container engine at the same path (volumes are bind-mounted from here). */
  rootDirectory?: string;
  podSandboxImage?: string;
  clusterDns?: SyncContext['clusterDns'];
  getConfigMap(namespace: string, name: string): Promise<ConfigObject | undefined>;
  getSecret(namespace: string, name: string): Promise<ConfigObject | undefined>;
  /** Tokens for projected serviceAccountToken sources (the cloud's TokenRequest, through metamanager). */
  getServiceAccountToken?: SyncContext['getServiceAccountToken'];
  /** Called only when a pod's status really changed. */
  onStatus?(pod: Pod, status: PodStatus): void;
  /** Called once every container of a deleted pod is gone. */
  onPodTerminated?(pod: Pod): void;
  log: Logger;
  /** First crash-loop / image-pull back-off delay; doubles up to 30x this (10 s → 5 min by default). */
  backoffBaseMs?: number;
  /** How often every pod is re-checked against the engine (engine events also trigger checks). */
  monitorIntervalMs?: number;
};

/**
 * Runs pods on a container engine. Each pod has one worker: its operations run one at a time, in order,
 * while pods proceed independently. Stopping the manager leaves containers running, so an edgecore restart
 * does not restart pods; the next manager adopts them.
 */
export class PodManager {
  readonly #opts: PodManagerOptions;
  readonly #ctx: SyncContext;
  readonly #pods = new Map<string, PodState>();
  readonly #idToUid = new Map<string, string>();
  #monitor: NodeJS.Timeout | undefined;
  #watcher: { close(): void } | undefined;
  #stopped = false;
  #orphansChecked = false;

  constructor(opts: PodManagerOptions) {
    this.#opts = opts;
    const base = opts.backoffBaseMs ?? 10_000;
    this.#ctx = {
      runtime: opts.runtime,
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIP,
      rootDirectory: opts.rootDirectory ?? '/var/lib/kubelet',
      podSandboxImage: opts.podSandboxImage ?? 'kubeedge/pause:3.6',
      ...(opts.clusterDns === undefined ? {} : { clusterDns: opts.clusterDns }),
      getConfigMap: opts.getConfigMap,
      getSecret: opts.getSecret,
      ...(opts.getServiceAccountToken === undefined ? {} : { getServiceAccountToken: opts.getServiceAccountToken }),
      log: opts.log,
      backoffBaseMs: base,
      backoffMaxMs: base * 30,
      wakeAt: (st, at) => this.#wakeAt(st, at),
      probeChanged: (st, t, kind, ok) => this.#probeChanged(st, t, kind, ok),
    };
    this.#startLoops();
  }

  #startLoops(): void {
    const interval = this.#opts.monitorIntervalMs ?? 2000;
    this.#monitor = setInterval(() => {
      for (const st of this.#pods.values()) this.#enqueue(st);
    }, interval);
    this.#monitor.unref();
    this.#watcher = this.#opts.runtime.watch?.(`${L_MANAGED}=${this.#opts.nodeName}`, (id) => {
      const uid = this.#idToUid.get(id);
      const st = uid ? this.#pods.get(uid) : undefined;
      if (st) this.#enqueue(st);
    });
  }

  /**
   * The full desired set (e.g. from the local store at start). Pods not in it are deleted; on the first call,
   * containers of pods nobody wants any more are removed as well.
   */
  async syncPods(pods: Pod[]): Promise<void> {
    const wanted = new Set(pods.map((p) => p.metadata.uid));
    for (const st of this.#pods.values()) if (!wanted.has(st.uid) && !st.terminating) this.deletePod(st.pod);
    for (const p of pods) this.addOrUpdatePod(p);
    if (!this.#orphansChecked) await this.adopt();
  }

  /**
   * Adoption at start: containers with our label are grouped by pod; pods we know get their containers
   * (same ids, nothing new started), others are removed.
   */
  async adopt(): Promise<void> {
    this.#orphansChecked = true;
    const all = await this.#opts.runtime.list({ [L_MANAGED]: this.#opts.nodeName });
    const orphans = all.filter((i) => !this.#pods.has(i.labels[L_POD_UID] ?? ''));
    for (const o of orphans) {
      this.#opts.log.info({ id: o.id.slice(0, 12), pod: o.labels['io.kubernetes.pod.name'] }, 'removing container of a pod that is not desired');
      await this.#opts.runtime.stopContainer(o.id, 2).catch(() => undefined);
      await this.#opts.runtime.removeContainer(o.id).catch((err: unknown) => this.#opts.log.warn({ err }, 'remove failed'));
    }
    // Known pods adopt their own containers inside their worker, before it creates anything.
    for (const st of this.#pods.values()) this.#enqueue(st);
  }

  addOrUpdatePod(pod: Pod): void {
    if (this.#stopped) return;
    if (pod.metadata.deletionTimestamp) {
      this.deletePod(pod);
      return;
    }
    const uid = pod.metadata.uid;
    let st = this.#pods.get(uid);
    if (st?.terminating) return;
    if (!st) {
      st = this.#newState(pod);
      this.#pods.set(uid, st);
    } else {
      st.pod = pod;
    }
    this.#enqueue(st);
  }

  /** Graceful delete: SIGTERM, SIGKILL after the grace period, remove containers and volumes, then onPodTerminated. */
  deletePod(pod: Pod): void {
    if (this.#stopped) return;
    const uid = pod.metadata.uid;
    let st = this.#pods.get(uid);
    if (!st) {
      st = this.#newState(pod);
      this.#pods.set(uid, st);
    } else {
      st.pod = { ...st.pod, metadata: { ...st.pod.metadata, ...pod.metadata } };
    }
    st.terminating = true;
    this.#enqueue(st);
  }

  /** A ConfigMap changed: rewrite the files of every pod volume that projects it. */
  updateConfigMap(obj: ConfigObject): Promise<void> {
    return this.#refresh('configmap', obj);
  }

  updateSecret(obj: ConfigObject): Promise<void> {
    return this.#refresh('secret', obj);
  }

  async #refresh(kind: 'configmap' | 'secret', obj: ConfigObject): Promise<void> {
    await Promise.all(
      [...this.#pods.values()]
        .filter((st) => st.volumePaths && !st.terminating)
        .map(async (st) => {
          try {
            // projected sources are re-read on the pod's next sync
            if (st.projected !== undefined) st.projected.at = 0;
            await refreshConfigVolumes(this.#ctx.rootDirectory, st.pod, kind, obj);
          } catch (err) {
            this.#opts.log.warn({ pod: st.pod.metadata.name, kind, name: obj.metadata.name, err }, 'volume refresh failed');
          }
        }),
    );
  }

  statusOf(uid: string): PodStatus | undefined {
    const json = this.#pods.get(uid)?.lastStatusJson;
    return json === undefined ? undefined : (JSON.parse(json) as PodStatus);
  }

  /** The pod by namespace and name, for the kubelet API; undefined when this node does not run it. */
  lookup(namespace: string, name: string): PodRef | undefined {
    for (const st of this.#pods.values()) {
      const m = st.pod.metadata;
      if (m.name !== name || (m.namespace ?? 'default') !== namespace || st.gone) continue;
      return {
        uid: st.uid,
        namespace,
        name,
        podIP: st.podIP,
        hostNetwork: st.pod.spec.hostNetwork ?? false,
        ...(st.sandbox ? { sandboxId: st.sandbox.id } : {}),
        containers: st.pod.spec.containers.map((c) => {
          const t = st.containers.get(c.name);
          return { name: c.name, ...(t?.current ? { currentId: t.current.id } : {}), ...(t?.previous ? { previousId: t.previous.id } : {}) };
        }),
      };
    }
    return undefined;
  }

  /** The pod objects being run (not those terminating), for the kubelet API's /pods. */
  pods(): Pod[] {
    return [...this.#pods.values()].filter((st) => !st.terminating && !st.gone).map((st) => st.pod);
  }

  /** The pods being managed (including those still terminating). */
  podUids(): string[] {
    return [...this.#pods.keys()];
  }

  /** Stops loops and probes; containers keep running. Waits for in-flight work to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#monitor) clearInterval(this.#monitor);
    this.#watcher?.close();
    for (const st of this.#pods.values()) {
      if (st.wakeTimer) clearTimeout(st.wakeTimer);
      for (const t of st.containers.values()) for (const p of t.probes) p.stop();
    }
    await Promise.all([...this.#pods.values()].map((st) => st.running?.catch(() => undefined)));
    for (const st of this.#pods.values())
      for (const t of st.containers.values()) {
        for (const p of t.probes) p.stop();
        t.probes = [];
      }
  }

  #newState(pod: Pod): PodState {
    return {
      pod,
      uid: pod.metadata.uid,
      adopted: false,
      sandboxAttempt: 0,
      podIP: '',
      startTime: pod.status?.startTime ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      containers: new Map(),
      terminating: false,
      conditionTimes: new Map(),
      again: false,
      gone: false,
    };
  }

  #enqueue(st: PodState): void {
    if (this.#stopped || st.gone) return;
    if (st.running) {
      st.again = true;
      return;
    }
    st.running = (async () => {
      do {
        st.again = false;
        try {
          await this.#work(st);
        } catch (err) {
          this.#opts.log.warn({ pod: st.pod.metadata.name, err }, 'pod sync failed; retrying on the next check');
        }
      } while (st.again && !this.#stopped && !st.gone);
      delete st.running;
    })();
  }

  async #work(st: PodState): Promise<void> {
    if (st.terminating) {
      if (!st.adopted) await adoptPod(st, this.#ctx).catch(() => undefined);
      await killPod(st, this.#ctx);
      await removePodDir(this.#ctx.rootDirectory, st.uid);
      st.gone = true;
      if (st.wakeTimer) clearTimeout(st.wakeTimer);
      this.#pods.delete(st.uid);
      for (const [id, uid] of this.#idToUid) if (uid === st.uid) this.#idToUid.delete(id);
      this.#opts.log.info({ pod: st.pod.metadata.name }, 'pod terminated');
      this.#callback(() => this.#opts.onPodTerminated?.(st.pod));
      return;
    }
    try {
      await syncPod(st, this.#ctx);
    } finally {
      if (st.sandbox) this.#idToUid.set(st.sandbox.id, st.uid);
      for (const t of st.containers.values()) if (t.current) this.#idToUid.set(t.current.id, st.uid);
      if (!this.#stopped && !st.terminating) this.#report(st);
    }
  }

  #report(st: PodState): void {
    const status = buildStatus(st, this.#opts.nodeIP, () => new Date().toISOString().replace(/\.\d+Z$/, 'Z'), this.#opts.runtime.name);
    const json = JSON.stringify(status);
    if (json === st.lastStatusJson) return;
    st.lastStatusJson = json;
    this.#callback(() => this.#opts.onStatus?.(st.pod, status));
  }

  /** Callbacks belong to the caller; their failures must not stop a pod worker. */
  #callback(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#opts.log.warn({ err }, 'pod manager callback threw');
    }
  }

  #wakeAt(st: PodState, at: number): void {
    if (this.#stopped || at <= 0) return;
    if (st.wakeTimer && st.wakeAt !== undefined && st.wakeAt <= at && st.wakeAt > Date.now()) return;
    if (st.wakeTimer) clearTimeout(st.wakeTimer);
    st.wakeAt = at;
    st.wakeTimer = setTimeout(
      () => {
        delete st.wakeTimer;
        this.#enqueue(st);
      },
      Math.max(0, at - Date.now()) + 5,
    );
    st.wakeTimer.unref();
  }

  #probeChanged(st: PodState, t: ContainerTrack, kind: 'liveness' | 'readiness', ok: boolean): void {
    if (kind === 'liveness' && !ok && t.probedId) t.killRequested = t.probedId;
    this.#enqueue(st);
  }
}
