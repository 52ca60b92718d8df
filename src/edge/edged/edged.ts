import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { Operation, parseResource, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { KUBE_VERSION, VERSION } from '../../version.ts';
import { setPodPhaseProvider } from '../../metrics/edge.ts';
import { MetaClient } from './metaclient.ts';
import { StatsCollector } from './stats/collector.ts';
import { podPhaseCounts, sendStatsToCloud } from './stats/report.ts';
import type { StatsSource } from './stats/types.ts';
import { collectHostInfo } from './nodestatus/host-info.ts';
import { NodeStatusManager } from './nodestatus/node-status.ts';
import { DiskPressureMonitor } from './nodestatus/disk-pressure.ts';
import { PodReporter } from './pod-reporter.ts';
import { PodManager, type ConfigObject, type Pod } from './pods/index.ts';
import { connectRuntime } from './runtime/index.ts';
import { KubeletServer } from './server/index.ts';

export type EdgedOptions = {
  enable?: boolean;
  nodeName: string;
  registerNodeNamespace?: string;
  nodeIP?: string;
  nodeLabels?: Record<string, string>;
  maxPods?: number;
  nodeStatusUpdateFrequencyMs?: number;
  nodeStatusReportFrequencyMs?: number;
  nodeLeaseDurationSeconds?: number;
  /** `tailoredKubeletConfig.containerRuntimeEndpoint`; pods need a reachable engine there. */
  containerRuntimeEndpoint: string;
  /** `tailoredKubeletConfig.podLogsDir`: CRI containers' log root (kubelet's /var/log/pods by default). */
  podLogsDir?: string;
  podSandboxImage?: string;
  /** `clusterDNS` (or EdgeMesh's DNS address) and `clusterDomain`, for ClusterFirst pods. */
  clusterDns?: { servers: string[]; domain: string };
  rootDirectory?: string;
  /** `modules.edged.dockerNetwork`: the Docker network pod sandboxes join (default bridge). */
  dockerNetwork?: string;
  /** The edge's own data directory (the database's): its filesystem counts for DiskPressure too. */
  dataDirectory?: string;
  /** `tailoredKubeletConfig.evictionHard`: its nodefs/imagefs thresholds decide DiskPressure. */
  evictionHard?: Readonly<Record<string, string>>;
  /** `tailoredKubeletConfig.evictionPressureTransitionPeriod`; default 5 min as the kubelet's. */
  evictionPressureTransitionPeriodMs?: number;
  /** Defaults to `v1.32.10-kubeedge-ts-<version>`. */
  kubeletVersion?: string;
  /** Timeout of each request to metamanager; default the loop's period, at least 5 s. */
  requestTimeoutMs?: number;
  /** `tailoredKubeletConfig.readOnlyPort`: edged's kubelet API on 127.0.0.1 (logs, exec, attach, port-forward); 0 = off. */
  kubeletPort?: number;
  /** `tailoredKubeletConfig.streamingConnectionIdleTimeout`: idle exec/attach/port-forward connections close after it. */
  streamIdleTimeoutMs?: number;
  /** Source of /metrics/resource and /stats/summary; those answer 503 without one. */
  stats?: StatsSource;
};

/**
 * Edged, the small kubelet: registers the node and keeps its status and lease fresh, and runs the pods the
 * cloud (or, offline, the local store) assigns to this node through the container engine.
 */
export class Edged implements Module {
  readonly name = EdgeModules.edged;
  readonly group = EdgeGroups.edged;
  readonly enabled: boolean;
  readonly #o: EdgedOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #stats: StatsCollector | undefined;
  #status: NodeStatusManager | undefined;
  #pods: PodManager | undefined;
  #reporter: PodReporter | undefined;
  #server: KubeletServer | undefined;

  constructor(o: EdgedOptions) {
    this.#o = o;
    this.enabled = o.enable ?? true;
  }

  get nodeStatus(): NodeStatusManager | undefined {
    return this.#status;
  }

  /** The usage samples (contract C2) for the kubelet API's /metrics/resource and /stats/summary. */
  get stats(): StatsSource | undefined {
    return this.#stats;
  }

  async start(ctx: ModuleContext): Promise<void> {
    const o = this.#o;
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    const runtime = await connectRuntime(o.containerRuntimeEndpoint, {
      log: ctx.log,
      ...(o.podLogsDir !== undefined ? { logRoot: o.podLogsDir } : {}),
      ...(o.dockerNetwork !== undefined ? { dockerNetwork: o.dockerNetwork } : {}),
    });
    const v = await runtime.version();
    const meta = new MetaClient(ctx.bus, o.requestTimeoutMs ?? 10_000);
    const reporter = new PodReporter(meta, ctx.log.child({ part: 'podstatus' }));
    this.#reporter = reporter;
    const hostOpts = {
      nodeName: o.nodeName,
      maxPods: o.maxPods ?? 110,
      containerRuntimeVersion: `${v.runtimeName}://${v.runtimeVersion}`,
      kubeletVersion: o.kubeletVersion ?? `${KUBE_VERSION}-kubeedge-ts-${VERSION}`,
      rootDirectory: o.rootDirectory ?? '/var/lib/kubelet',
      ...(o.nodeIP !== undefined ? { nodeIP: o.nodeIP } : {}),
      ...(o.kubeletPort !== undefined ? { kubeletPort: o.kubeletPort } : {}),
    };
    const hostInfo = collectHostInfo(hostOpts);
    this.#pods = new PodManager({
      runtime,
      nodeName: o.nodeName,
      nodeIP: hostInfo.addresses.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1',
      rootDirectory: hostOpts.rootDirectory,
      ...(o.podSandboxImage !== undefined ? { podSandboxImage: o.podSandboxImage } : {}),
      ...(o.clusterDns !== undefined ? { clusterDns: o.clusterDns } : {}),
      getConfigMap: (ns, name) => meta.get<ConfigObject>(ns, 'configmap', name),
      getSecret: (ns, name) => meta.get<ConfigObject>(ns, 'secret', name),
      getServiceAccountToken: (ns, sa, spec) => meta.serviceAccountToken(ns, sa, spec),
      onStatus: (pod, status) => reporter.status(pod, status),
      onPodTerminated: (pod) => reporter.deleted(pod),
      log: ctx.log.child({ part: 'pods' }),
    });
    const disk =
      o.evictionHard !== undefined
        ? new DiskPressureMonitor({
            paths: [hostOpts.rootDirectory, ...(o.dataDirectory !== undefined ? [o.dataDirectory] : [])],
            evictionHard: o.evictionHard,
            transitionPeriodMs: o.evictionPressureTransitionPeriodMs ?? 5 * 60_000,
            log: ctx.log.child({ part: 'diskpressure' }),
          })
        : undefined;
    this.#status = new NodeStatusManager(ctx.bus, ctx.log.child({ part: 'nodestatus' }), {
      nodeName: o.nodeName,
      registerNodeNamespace: o.registerNodeNamespace ?? 'default',
      nodeLabels: o.nodeLabels ?? {},
      updateFrequencyMs: o.nodeStatusUpdateFrequencyMs ?? 10_000,
      ...(o.nodeStatusReportFrequencyMs !== undefined ? { reportFrequencyMs: o.nodeStatusReportFrequencyMs } : {}),
      leaseDurationSeconds: o.nodeLeaseDurationSeconds ?? 40,
      hostInfo: () => collectHostInfo(hostOpts),
      ...(disk !== undefined ? { diskPressure: () => disk.check().pressure } : {}),
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    });
    const pods = this.#pods;
    setPodPhaseProvider(() => podPhaseCounts(pods.podUids().map((uid) => pods.statusOf(uid)?.phase)));
    this.#stats = new StatsCollector({
      runtime,
      nodeName: o.nodeName,
      rootDirectory: hostOpts.rootDirectory,
      log: ctx.log.child({ part: 'stats' }),
      onSample: (s) => sendStatsToCloud(ctx.bus, s),
    });
    this.#stats.start();
    ctx.bus.register(this.name, this.group, (m) => this.#dispatch(m));
    // The pods this node ran before a restart come from the local store, cloud or not: adopt them first.
    const stored = await meta.storedPods<Pod>().catch((err: unknown) => {
      ctx.log.warn({ err }, 'cannot read pods from the local store');
      return [];
    });
    await this.#pods.syncPods(stored.filter((p) => p.spec?.nodeName === o.nodeName));
    const kubeletPort = o.kubeletPort ?? 10350;
    if (kubeletPort > 0) {
      const pods = this.#pods;
      this.#server = new KubeletServer({
        port: kubeletPort,
        ...(o.streamIdleTimeoutMs !== undefined ? { streamIdleTimeoutMs: o.streamIdleTimeoutMs } : {}),
        pods: { lookup: (ns, name) => pods.lookup(ns, name), pods: () => pods.pods() },
        runtime,
        stats: o.stats ?? this.#stats,
        log: ctx.log.child({ part: 'kubelet-api' }),
      });
      // A port taken by another process costs the kubelet API, not the node: pods keep running.
      await this.#server.start().then(
        (port) => ctx.log.info({ port }, 'kubelet API listening on 127.0.0.1'),
        (err: unknown) => ctx.log.error({ err, port: kubeletPort }, 'kubelet API cannot listen; logs, exec and port-forward are unavailable'),
      );
    }
    this.#status.start();
  }

  async stop(): Promise<void> {
    await this.#server?.stop().catch(() => undefined);
    this.#status?.stop();
    this.#reporter?.stop();
    this.#stats?.stop();
    await this.#pods?.stop();
    this.#bus?.unregister(this.name);
  }

  #dispatch(m: Message): void {
    const r = m.route;
    if (r.operation === Operation.connect && r.resource === 'node/connection') {
      if (m.content === 'cloud_connected') {
        this.#status?.cloudConnected();
        this.#reporter?.cloudConnected();
        // The last usage sample at once: `kubectl top` need not wait a round after a reconnect.
        const sample = this.#stats?.latest();
        if (sample !== undefined && this.#bus !== undefined) sendStatsToCloud(this.#bus, sample);
      }
      return;
    }
    const { type } = parseResource(r.resource ?? '');
    const pods = this.#pods;
    if (pods === undefined || typeof m.content !== 'object' || m.content === null) return;
    try {
      if (type === 'pod') {
        const pod = m.content as Pod;
        if (pod.spec?.nodeName !== undefined && pod.spec.nodeName !== this.#o.nodeName) return;
        if (r.operation === Operation.delete) pods.deletePod(pod);
        else pods.addOrUpdatePod(pod);
      } else if (type === 'configmap' && r.operation !== Operation.delete) {
        void pods.updateConfigMap(m.content as ConfigObject);
      } else if (type === 'secret' && r.operation !== Operation.delete) {
        void pods.updateSecret(m.content as ConfigObject);
      }
    } catch (err) {
      this.#log?.warn({ resource: r.resource, err }, 'cannot apply resource');
    }
  }
}
