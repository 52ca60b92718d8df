/**
 * What every config key does in kubeedge-ts, against KubeEdge v1.15.4 (the version our defaults follow):
 * honoured (read by the code named), accepted but not applicable (with the reason), or part of a module that is
 * not built yet. `configNotes` turns a loaded file into the start-up warning lines: one per enabled module that is
 * not built, one per not-applicable key set to something other than KubeEdge's default, and one line counting the
 * not-applicable keys left at their defaults. docs/config.md is the same table for people.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Path } from './v1alpha1.ts';

export type ConfigKind = 'cloudcore' | 'edgecore';

/** The version whose `--defaultconfig` our defaults and printed configs follow. */
export const KUBEEDGE_DEFAULTS_VERSION = 'v1.15.4';

export type KeyEffect =
  | { kind: 'honoured'; by: string }
  | { kind: 'notApplicable'; reason: string }
  | { kind: 'notBuilt'; module: string }
  | { kind: 'unknown' };

/** Modules KubeEdge's config names that kubeedge-ts does not build yet; `enable: true` gives one warning line. */
export const NOT_BUILT_MODULES: Readonly<Record<ConfigKind, readonly string[]>> = {
  cloudcore: ['nodeUpgradeJobController', 'dynamicController', 'router', 'taskManager'],
  edgecore: ['serviceBus', 'dbTest', 'taskManager'],
};

/** v1.15.4 edged keys with no default (omitted from its `--defaultconfig`), accepted as written, no effect here. */
export const EDGED_KEYS_WITHOUT_DEFAULT = [
  'registerWithTaints',
  'windowsService',
  'windowsPriorityClass',
  'experimentalMounterPath',
  'experimentalNodeAllocatableIgnoreEvictionThreshold',
  'keepTerminatedPodVolumes',
  'seccompDefault',
] as const;

/** v1.15.4 tailoredKubeletConfig keys with no default, accepted as written, no effect here. */
export const KUBELET_KEYS_WITHOUT_DEFAULT = [
  'eventRecordQPS',
  'eventBurst',
  'enableContentionProfiling',
  'kubeletCgroups',
  'systemCgroups',
  'cgroupRoot',
  'cpuManagerPolicyOptions',
  'qosReserved',
  'podCIDR',
  'evictionSoft',
  'evictionSoftGracePeriod',
  'evictionMaxPodGracePeriod',
  'evictionMinimumReclaim',
  'podsPerCore',
  'protectKernelDefaults',
  'featureGates',
  'systemReserved',
  'kubeReserved',
  'reservedSystemCPUs',
  'showHiddenMetricsForVersion',
  'systemReservedCgroup',
  'kubeReservedCgroup',
  'allowedUnsafeSysctls',
  'kernelMemcgNotification',
  'shutdownGracePeriodByPodPriority',
  'reservedMemory',
  'registerWithTaints',
] as const;

const EDGED = 'modules.edged';
const KUBELET = 'modules.edged.tailoredKubeletConfig';

const each = (prefix: string, keys: readonly string[], v: string): Record<string, string> => Object.fromEntries(keys.map((k) => [`${prefix}.${k}`, v]));

/** Key (or prefix: a key covers everything under it) -> the code that reads it. */
export const HONOURED: Readonly<Record<ConfigKind, Readonly<Record<string, string>>>> = {
  edgecore: {
    apiVersion: 'load.ts: v1alpha2 is read as is, v1alpha1 is converted (v1alpha1.ts)',
    kind: 'load.ts',
    'database.driverName': 'metamanager: only sqlite3 (node:sqlite)',
    'database.dataSource': 'metamanager: the local store',
    [`${EDGED}.enable`]: 'edgecore.ts: Edged runs or not',
    [`${EDGED}.hostnameOverride`]: 'edged: the node name',
    [`${EDGED}.registerNodeNamespace`]: 'edged: namespace of node registration',
    [`${EDGED}.nodeIP`]: 'edged: the node InternalIP (empty: the first non-internal IPv4 address)',
    [`${EDGED}.nodeLabels`]: 'edged: labels of the registered node',
    [`${EDGED}.podSandboxImage`]: 'edged: the pause image',
    [`${EDGED}.rootDirectory`]: 'edged: pod volumes and state (pods/<uid>/...)',
    [`${EDGED}.remoteRuntimeEndpoint`]: 'edged: the engine endpoint unless tailoredKubeletConfig.containerRuntimeEndpoint is set (runtimeEndpoints)',
    [`${EDGED}.remoteImageEndpoint`]: 'edged: image endpoint; must equal the runtime endpoint (warned otherwise)',
    [`${KUBELET}.containerRuntimeEndpoint`]: 'edged: the engine endpoint (KubeEdge v1.16+ key; wins when non-empty)',
    [`${KUBELET}.imageServiceEndpoint`]: 'edged: image endpoint (KubeEdge v1.16+ key); must equal the runtime endpoint (warned otherwise)',
    [`${KUBELET}.podLogsDir`]: 'edged on CRI: where container logs go (kubelet 1.29+ key; /var/log/pods when unset)',
    'modules.edgeMesh': 'edgemesh: Service DNS, the Service proxy and its nat chain, the peer port (listenPort) and the cloud relay',
    [`${EDGED}.dockerNetwork`]: 'edged on Docker: the network pod sandboxes join (unset: bridge)',
    [`${KUBELET}.readOnlyPort`]:
      "edged: its kubelet API (logs, exec, attach, port-forward, /pods, stats) on 127.0.0.1 at this port, advertised as the node's kubeletEndpoint; 0 = off",
    [`${KUBELET}.streamingConnectionIdleTimeout`]: 'edged kubelet API: an exec, attach or port-forward connection idle this long is closed (0s = never)',
    [`${KUBELET}.maxPods`]: 'edged: node capacity and allocatable pods',
    [`${KUBELET}.clusterDomain`]: 'edgemesh: its DNS zone; edged: the search path of ClusterFirst pods',
    [`${KUBELET}.clusterDNS`]: "edged: the resolvers of ClusterFirst pods (empty: EdgeMesh's DNS when it runs, else the engine's)",
    [`${KUBELET}.nodeStatusUpdateFrequency`]: 'edged: node status loop',
    [`${KUBELET}.nodeStatusReportFrequency`]: 'edged: unchanged node status is still reported this often',
    [`${KUBELET}.nodeLeaseDurationSeconds`]: 'edged: node lease',
    [`${KUBELET}.evictionHard`]:
      'edged: its nodefs/imagefs thresholds set the DiskPressure condition (data dir and rootDirectory); nothing is evicted, memory and pid thresholds have no effect',
    [`${KUBELET}.evictionPressureTransitionPeriod`]: 'edged: DiskPressure stays True this long after the disk recovered',
    'modules.edgeHub.enable': 'edgecore.ts: false runs edgecore without a cloud link (warned)',
    'modules.edgeHub.heartbeat': 'edgehub: ping period',
    'modules.edgeHub.projectID': 'edgehub: the project in the WebSocket path',
    'modules.edgeHub.tlsCaFile': 'edgehub: certificates',
    'modules.edgeHub.tlsCertFile': 'edgehub: certificates',
    'modules.edgeHub.tlsPrivateKeyFile': 'edgehub: certificates',
    'modules.edgeHub.token': 'edgehub: certificate bootstrap (the keadm token file wins)',
    'modules.edgeHub.httpServer': 'edgehub: certificate bootstrap and rotation',
    'modules.edgeHub.rotateCertificates': 'edgehub: certificate rotation',
    'modules.edgeHub.websocket.enable': 'validated: exactly one of websocket and quic',
    'modules.edgeHub.websocket.server': 'edgehub: the cloud address',
    'modules.edgeHub.websocket.handshakeTimeout': 'edgehub: dial timeout',
    'modules.edgeHub.quic.enable': 'edgecore.ts: warned at start, QUIC is not served',
    'modules.metaManager.enable': 'edgecore.ts: MetaManager runs or not',
    'modules.metaManager.remoteQueryTimeout': 'metamanager: timeout of queries to the cloud',
    'modules.eventBus.enable': 'edgecore.ts: EventBus (MQTT) runs or not',
    'modules.eventBus.mqttMode': 'eventbus: 0 embedded broker, 1 embedded and external, 2 external broker',
    'modules.eventBus.mqttServerInternal': 'eventbus: where the embedded broker listens (tcp:// only)',
    'modules.eventBus.mqttServerExternal': 'eventbus: the external broker (mosquitto), reconnected with backoff',
    'modules.eventBus.mqttQOS': 'eventbus: QoS of what EventBus publishes on the embedded broker',
    'modules.eventBus.mqttRetain': 'eventbus: retain flag of what EventBus publishes on the embedded broker',
    'modules.eventBus.mqttSessionQueueSize': 'eventbus: messages the embedded broker queues per client',
    'modules.eventBus.mqttSubClientID': 'eventbus: client id of the subscribing client (empty: hub-client-sub-<node>-<time>)',
    'modules.eventBus.mqttPubClientID': 'eventbus: client id of the publishing client (empty: hub-client-pub-<node>-<time>)',
    'modules.eventBus.mqttUsername': 'eventbus: external broker login',
    'modules.eventBus.mqttPassword': 'eventbus: external broker login (with mqttUsername)',
    'modules.eventBus.eventBusTLS': 'eventbus: client certificate and CA for the external broker',
    'modules.deviceTwin.enable': 'edgecore.ts: DeviceTwin runs or not',
    'modules.deviceTwin.dmiSockPath': 'dmi: the DMI server socket (KubeEdge v1.16+ key)',
    'modules.metrics': 'kubeedge-ts extension: edgecore.ts serves /metrics and /healthz on bindAddress (src/metrics)',
    'modules.edgeStream.enable': 'edgecore.ts: EdgeStream dials the cloud tunnel or not',
    'modules.edgeStream.server': "edgestream: CloudStream's tunnel address (host:tunnelPort)",
    'modules.edgeStream.handshakeTimeout': 'edgestream: tunnel dial timeout (seconds)',
    'modules.edgeStream.readDeadline': 'edgestream: tunnel ping period; an unanswered ping drops the tunnel (seconds)',
    'modules.edgeStream.tlsTunnelCAFile': "edgestream: tunnel certificates (EdgeHub's when these are KubeEdge's defaults or EdgeHub's paths)",
    'modules.edgeStream.tlsTunnelCertFile': "edgestream: tunnel certificates (EdgeHub's when these are KubeEdge's defaults or EdgeHub's paths)",
    'modules.edgeStream.tlsTunnelPrivateKeyFile': "edgestream: tunnel certificates (EdgeHub's when these are KubeEdge's defaults or EdgeHub's paths)",
  },
  cloudcore: {
    apiVersion: 'load.ts',
    kind: 'load.ts',
    'kubeAPIConfig.master': 'cloudcore.ts: API server address',
    'kubeAPIConfig.kubeConfig': 'cloudcore.ts: kubeconfig of a real cluster (unset: the embedded API server)',
    'modules.cloudHub.enable': 'cloudcore.ts: false serves no edge (warned)',
    'modules.cloudHub.keepaliveInterval': 'cloudhub: an edge silent this long is disconnected',
    'modules.cloudHub.nodeLimit': 'cloudhub: connections refused above it',
    'modules.cloudHub.tlsCAFile': 'cloudhub-pki',
    'modules.cloudHub.tlsCAKeyFile': 'cloudhub-pki',
    'modules.cloudHub.tlsCertFile': 'cloudhub-pki',
    'modules.cloudHub.tlsPrivateKeyFile': 'cloudhub-pki',
    'modules.cloudHub.writeTimeout': 'cloudhub: frame write timeout',
    'modules.cloudHub.quic.enable': 'cloudcore.ts: warned at start, QUIC is not served',
    'modules.cloudHub.websocket': 'cloudhub: the WebSocket listener',
    'modules.cloudHub.https': 'cloudhub: the certificate service',
    'modules.cloudHub.advertiseAddress': 'cloudhub-pki: server certificate IPs',
    'modules.cloudHub.dnsNames': 'cloudhub-pki: server certificate names',
    'modules.cloudHub.edgeCertSigningDuration': 'certificate service: edge certificate lifetime (days)',
    'modules.cloudHub.authorization': 'cloudhub + edgecontroller: enable && !debug refuses shared certs and enforces the node authorizer (docs/security.md)',
    'modules.cloudHub.tokenRefreshDuration': 'token manager: join token lifetime (hours)',
    'modules.edgeController.enable': 'cloudcore.ts',
    'modules.edgeController.nodeMonitorGracePeriod': 'kubeedge-ts extension: embedded API server marks a silent node Unknown after it',
    'modules.deviceController.enable': 'cloudcore.ts (src/cloud/devicecontroller)',
    'commonConfig.tunnelPort':
      'iptablesmanager: kubelet port DNATed for a node whose Node does not report daemonEndpoints.kubeletEndpoint yet (edges report their readOnlyPort)',
    'modules.iptablesManager.enable':
      'cloudcore.ts: iptablesManager (DNAT <node InternalIP>:<kubelet port> -> stream server while the tunnel is up; needs cloudStream and its stream server)',
    'modules.iptablesManager.mode': 'iptablesmanager: internal = cloudcore programs nat/KE-STREAM itself; external = an operator does (nothing programmed)',
    'modules.cloudStream.enable': 'cloudcore.ts: CloudStream (tunnel server, kubelet proxy for pods/log|exec|attach|portforward)',
    'modules.cloudStream.tunnelPort': 'cloudstream: tunnel listener (0.0.0.0)',
    'modules.cloudStream.tlsTunnelCAFile': "cloudstream: tunnel TLS (cloudHub's PKI unless these name other existing files)",
    'modules.cloudStream.tlsTunnelCertFile': "cloudstream: tunnel TLS (cloudHub's PKI unless these name other existing files)",
    'modules.cloudStream.tlsTunnelPrivateKeyFile': "cloudstream: tunnel TLS (cloudHub's PKI unless these name other existing files)",
    'modules.cloudStream.streamPort': 'cloudstream: stream server for a real kube-apiserver (started only when tlsStreamCAFile exists)',
    'modules.cloudStream.tlsStreamCAFile': 'cloudstream: CA of the client certificates the stream server accepts (absent: no stream server)',
    'modules.cloudStream.tlsStreamCertFile': "cloudstream: stream server certificate (absent: cloudcore's server certificate)",
    'modules.cloudStream.tlsStreamPrivateKeyFile': "cloudstream: stream server key (absent: cloudcore's server key)",
    'modules.deviceController.buffer.updateDeviceStatus':
      'devicecontroller: devices with an unwritten status at most; reports beyond are not confirmed (the edge resends)',
    'modules.deviceController.load.updateDeviceStatusWorkers': 'devicecontroller: Device status writes in flight at most',
    'modules.deviceController.statusUpdateIntervalMs': 'kubeedge-ts extension: devicecontroller writes a device status at most once per this many ms',
    'modules.syncController.enable': 'cloudcore.ts',
    'modules.apiServer': 'kubeedge-ts extension: the embedded API server',
    'modules.controllerManager': 'kubeedge-ts extension: the embedded controllers (src/cloud/controllers)',
    'modules.scheduler': 'kubeedge-ts extension: the embedded scheduler (src/cloud/controllers)',
    'commonConfig.monitorServer.bindAddress': 'cloudcore.ts: /metrics (Prometheus text) and /healthz on this address (src/metrics)',
  },
};

const NO_KUBELET_API = "edged's kubelet API is plain HTTP on 127.0.0.1 at readOnlyPort (no other address, debug, profiling or system-log handlers)";
const ENGINE_RESOURCES =
  'resources are left to the engine: container limits only, no QoS cgroups, CPU/memory/topology managers or node allocatable enforcement';
const NO_EVICTION = 'no eviction manager (allocatable subtracts the default evictionHard reserves, as KubeEdge reports it)';
const ENGINE_NETWORK = "pod networking is the engine's (Docker bridge or CNI); edged programs no iptables";
const NO_CONTAINER_GC = 'no container garbage collector: dead containers are removed with their pod';
const NO_VOLUME_PLUGINS = 'no volume plugins or attach/detach (configMap, secret, emptyDir, hostPath, downwardAPI and projected volumes are built in)';
const QUIC = 'QUIC is not supported (KubeEdge uses pre-standard gQUIC); WebSocket only';
const LATER = (v: string, why: string) => `a KubeEdge ${v} key; ${why}`;

/** Key (or prefix) -> why it is accepted but has no effect in kubeedge-ts. */
export const NOT_APPLICABLE: Readonly<Record<ConfigKind, Readonly<Record<string, string>>>> = {
  edgecore: {
    'database.aliasName': 'one database; the alias names an ORM connection in KubeEdge',
    featureGates: 'kubeedge-ts has no feature gates',
    edgecoreVersion: LATER('v1.19+', 'upgrade bookkeeping, not read'),
    [`${EDGED}.containerRuntime`]: 'the engine (Docker Engine API or CRI) is recognised from the endpoint',
    [`${EDGED}.masterServiceNamespace`]: 'no service environment variables are injected into pods',
    [`${EDGED}.maxContainerCount`]: NO_CONTAINER_GC,
    [`${EDGED}.maxPerPodContainerCount`]: NO_CONTAINER_GC,
    [`${EDGED}.minimumGCAge`]: NO_CONTAINER_GC,
    [`${EDGED}.registerNode`]: 'edged always registers its node',
    [`${EDGED}.registerSchedulable`]: 'the node is always registered schedulable',
    [`${EDGED}.customInterfaceName`]: 'only checked to exist at start; the node IP comes from nodeIP or the first non-internal IPv4 address',
    [`${EDGED}.runtimeCgroups`]: ENGINE_RESOURCES,
    [`${EDGED}.reportEvent`]: LATER('v1.19+', 'edged reports no Kubernetes events'),
    ...each(EDGED, EDGED_KEYS_WITHOUT_DEFAULT, 'a kubelet flag edged does not implement'),
    ...each(
      KUBELET,
      [
        'address',
        'enableDebuggingHandlers',
        'enableDebugFlagsHandler',
        'enableProfilingHandler',
        'enableSystemLogHandler',
        'enableContentionProfiling',
        'showHiddenMetricsForVersion',
      ],
      NO_KUBELET_API,
    ),
    ...each(
      KUBELET,
      [
        'cgroupDriver',
        'cgroupsPerQOS',
        'cgroupRoot',
        'kubeletCgroups',
        'systemCgroups',
        'cpuCFSQuota',
        'cpuCFSQuotaPeriod',
        'cpuManagerPolicy',
        'cpuManagerPolicyOptions',
        'cpuManagerReconcilePeriod',
        'memoryManagerPolicy',
        'reservedMemory',
        'topologyManagerPolicy',
        'topologyManagerScope',
        'qosReserved',
        'enforceNodeAllocatable',
        'systemReserved',
        'kubeReserved',
        'reservedSystemCPUs',
        'systemReservedCgroup',
        'kubeReservedCgroup',
        'memorySwap',
        'memoryThrottlingFactor',
        'podPidsLimit',
        'podsPerCore',
        'oomScoreAdj',
        'failSwapOn',
        'kernelMemcgNotification',
        'protectKernelDefaults',
        'seccompDefault',
        'allowedUnsafeSysctls',
        'maxOpenFiles',
      ],
      ENGINE_RESOURCES,
    ),
    ...each(KUBELET, ['evictionSoft', 'evictionSoftGracePeriod', 'evictionMaxPodGracePeriod', 'evictionMinimumReclaim'], NO_EVICTION),
    ...each(KUBELET, ['imageGCHighThresholdPercent', 'imageGCLowThresholdPercent', 'imageMinimumGCAge'], 'no image garbage collection'),
    ...each(KUBELET, ['hairpinMode', 'makeIPTablesUtilChains', 'iptablesDropBit', 'iptablesMasqueradeBit', 'podCIDR'], ENGINE_NETWORK),
    [`${KUBELET}.resolvConf`]: "pods with dnsPolicy Default get the engine's DNS settings (the host's resolv.conf)",
    ...each(KUBELET, ['registryPullQPS', 'registryBurst', 'serializeImagePulls'], 'image pulls are not rate limited; each runs when its pod needs it'),
    ...each(KUBELET, ['containerLogMaxSize', 'containerLogMaxFiles'], "container logs are the engine's (its log driver rotates them)"),
    ...each(KUBELET, ['enableControllerAttachDetach', 'volumePluginDir', 'volumeStatsAggPeriod'], NO_VOLUME_PLUGINS),
    ...each(KUBELET, ['shutdownGracePeriod', 'shutdownGracePeriodCriticalPods', 'shutdownGracePeriodByPodPriority'], 'no graceful node shutdown manager'),
    ...each(KUBELET, ['eventRecordQPS', 'eventBurst'], 'edged records no Kubernetes events'),
    [`${KUBELET}.logging`]: 'edgecore logs JSON lines (pino); LOG_LEVEL sets the level',
    [`${KUBELET}.staticPodPath`]: 'no static pods: pods come from the cloud',
    [`${KUBELET}.syncFrequency`]: "pods are synced on every change and by edged's own loop",
    [`${KUBELET}.runtimeRequestTimeout`]: 'engine calls use their own timeouts',
    [`${KUBELET}.nodeStatusMaxImages`]: 'node status lists no images',
    [`${KUBELET}.contentType`]: 'edged talks to MetaManager on the bus, not to an API server',
    [`${KUBELET}.configMapAndSecretChangeDetectionStrategy`]: 'configMaps and secrets are refreshed when the cloud sends them',
    [`${KUBELET}.registerNode`]: 'edged always registers its node',
    [`${KUBELET}.registerWithTaints`]: 'the node is registered without taints',
    [`${KUBELET}.featureGates`]: 'no kubelet feature gates',
    'modules.edgeHub.messageQPS': 'messages to the cloud are not rate limited',
    'modules.edgeHub.messageBurst': 'messages to the cloud are not rate limited',
    'modules.edgeHub.websocket.readDeadline': 'the link is watched by heartbeat timeouts, not per-read deadlines',
    'modules.edgeHub.websocket.writeDeadline': 'the link is watched by heartbeat timeouts, not per-write deadlines',
    'modules.edgeStream.writeDeadline': 'tunnel writes are bounded by per-stream credit windows, not per-write deadlines',
    'modules.edgeHub.quic.handshakeTimeout': QUIC,
    'modules.edgeHub.quic.readDeadline': QUIC,
    'modules.edgeHub.quic.server': QUIC,
    'modules.edgeHub.quic.writeDeadline': QUIC,
    'modules.metaManager.contextSendGroup': 'MetaManager always answers through EdgeHub',
    'modules.metaManager.contextSendModule': 'MetaManager always answers through EdgeHub',
    'modules.metaManager.metaServer': 'the edge metaServer (a local Kubernetes API for pods) is not built',
  },
  cloudcore: {
    featureGates: 'kubeedge-ts has no feature gates',
    'commonConfig.monitorServer.enableProfiling': 'Node.js has no pprof handlers: profile with node --cpu-prof or --inspect',
    'kubeAPIConfig.contentType': 'the API client speaks JSON',
    'kubeAPIConfig.qps': 'API requests are not rate limited on the client side',
    'kubeAPIConfig.burst': 'API requests are not rate limited on the client side',
    'modules.cloudHub.quic.address': QUIC,
    'modules.cloudHub.quic.port': QUIC,
    'modules.cloudHub.quic.maxIncomingStreams': QUIC,
    'modules.cloudHub.unixsocket': 'no UDS endpoint (it serves the CSI driver, not built)',
    'modules.edgeController.nodeUpdateFrequency': 'node status is written when the edge reports it',
    'modules.edgeController.buffer': 'one event loop: no per-kind queues to size',
    'modules.edgeController.load': 'one event loop: no per-kind worker pools',
    'modules.deviceController.buffer.deviceEvent': 'one event loop: informer events are handled as they come, no queue to size',
    'modules.deviceController.buffer.deviceModelEvent': 'one event loop: informer events are handled as they come, no queue to size',
  },
};

/** kubeedge-ts's own keys (not in any KubeEdge version), for docs/config.md and `--defaultconfig` comments. */
export const EXTENSIONS: Readonly<Record<ConfigKind, readonly string[]>> = {
  cloudcore: [
    'modules.apiServer',
    'modules.controllerManager',
    'modules.scheduler',
    'modules.edgeController.nodeMonitorGracePeriod',
    'modules.deviceController.statusUpdateIntervalMs',
  ],
  edgecore: ['modules.edgeMesh', 'modules.metrics', 'modules.edged.dockerNetwork'],
};

const covers = (prefix: string, key: string): boolean => key === prefix || key.startsWith(`${prefix}.`);

function longest(table: Readonly<Record<string, string>>, key: string): string | undefined {
  let best: string | undefined;
  for (const p of Object.keys(table)) if (covers(p, key) && (best === undefined || p.length > best.length)) best = p;
  return best;
}

/**
 * What a key (dotted path) does here. `unknown` for keys the schema would warn about or the map entries it keeps.
 * @example effectOf('edgecore', 'modules.edged.tailoredKubeletConfig.cpuManagerPolicy') // { kind: 'notApplicable', ... }
 */
export function effectOf(kind: ConfigKind, key: string): KeyEffect {
  const mod = /^modules\.([^.]+)/.exec(key)?.[1];
  if (mod !== undefined && NOT_BUILT_MODULES[kind].includes(mod)) return { kind: 'notBuilt', module: mod };
  const h = longest(HONOURED[kind], key);
  const n = longest(NOT_APPLICABLE[kind], key);
  if (h !== undefined && (n === undefined || h.length >= n.length)) return { kind: 'honoured', by: HONOURED[kind][h] ?? '' };
  if (n !== undefined) return { kind: 'notApplicable', reason: NOT_APPLICABLE[kind][n] ?? '' };
  return { kind: 'unknown' };
}

export type ConfigNote = { path: Path; message: string };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const s of path) {
    if (!isMap(v)) return undefined;
    v = v[s];
  }
  return v;
}

/**
 * The start-up warning lines for a loaded file (`raw`: the file's tree after conversion; `defaults`: the config a
 * file with no keys gives). Each note names its key; the count line has an empty path.
 */
export function configNotes(kind: ConfigKind, raw: Record<string, unknown>, defaults: unknown): ConfigNote[] {
  const notes: ConfigNote[] = [];
  const modules = isMap(raw['modules']) ? raw['modules'] : {};
  for (const m of NOT_BUILT_MODULES[kind]) {
    const mod = modules[m];
    if (isMap(mod) && mod['enable'] === true) {
      notes.push({
        path: ['modules', m, 'enable'],
        message: `module ${m} is not built in kubeedge-ts yet: it does not run (set modules.${m}.enable: false to silence this)`,
      });
    }
  }

  let atDefault = 0;
  for (const prefix of Object.keys(NOT_APPLICABLE[kind])) {
    const path = prefix.split('.');
    const v = at(raw, path);
    if (v === undefined) continue;
    const d = at(defaults, path);
    // a switched-off feature (`metaServer: {enable: false, ...}`, `quic.server` under `quic.enable: false`)
    // behaves here as it does in KubeEdge
    const parent = at(raw, path.slice(0, -1));
    const off = (isMap(v) && v['enable'] === false) || (isMap(parent) && parent['enable'] === false);
    if ((d !== undefined && isDeepStrictEqual(v, d)) || off) atDefault++;
    else notes.push({ path, message: `has no effect in kubeedge-ts: ${NOT_APPLICABLE[kind][prefix] ?? ''}` });
  }

  if (kind === 'edgecore') notes.push(...edgeNotes(modules));
  else notes.push(...cloudNotes(modules));

  if (atDefault > 0) {
    notes.push({
      path: [],
      message: `${atDefault} ${atDefault === 1 ? 'key' : 'keys'} of this file ${atDefault === 1 ? 'has' : 'have'} no effect in kubeedge-ts and ${atDefault === 1 ? 'holds' : 'hold'} KubeEdge ${KUBEEDGE_DEFAULTS_VERSION}'s default (docs/config.md lists them and why)`,
    });
  }
  return notes;
}

function edgeNotes(modules: Record<string, unknown>): ConfigNote[] {
  const notes: ConfigNote[] = [];
  const hub = modules['edgeHub'];
  if (isMap(hub) && hub['enable'] === false) {
    notes.push({
      path: ['modules', 'edgeHub', 'enable'],
      message:
        'false: edgecore runs without a cloud link (no certificate bootstrap, node registration or status upload; pods already in the local store keep running)',
    });
  }
  const edged = isMap(modules['edged']) ? modules['edged'] : {};
  const kubelet = isMap(edged['tailoredKubeletConfig']) ? edged['tailoredKubeletConfig'] : {};
  const newer = kubelet['containerRuntimeEndpoint'];
  const old = edged['remoteRuntimeEndpoint'];
  if (typeof newer === 'string' && newer !== '' && typeof old === 'string' && old !== newer) {
    notes.push({
      path: ['modules', 'edged', 'remoteRuntimeEndpoint'],
      message: `ignored: tailoredKubeletConfig.containerRuntimeEndpoint (${newer}) is set and wins, as in KubeEdge v1.16-v1.17`,
    });
  }
  const runtime = typeof newer === 'string' && newer !== '' ? newer : typeof old === 'string' ? old : undefined;
  const imageKey = typeof newer === 'string' && newer !== '' ? ['tailoredKubeletConfig', 'imageServiceEndpoint'] : ['remoteImageEndpoint'];
  const image = imageKey.length === 2 ? kubelet['imageServiceEndpoint'] : edged['remoteImageEndpoint'];
  if (runtime !== undefined && typeof image === 'string' && image !== '' && image !== runtime) {
    notes.push({
      path: ['modules', 'edged', ...imageKey],
      message: `has no effect in kubeedge-ts: images are pulled through the runtime endpoint (${runtime})`,
    });
  }
  return notes;
}

function cloudNotes(modules: Record<string, unknown>): ConfigNote[] {
  const hub = modules['cloudHub'];
  if (isMap(hub) && hub['enable'] === false) {
    return [{ path: ['modules', 'cloudHub', 'enable'], message: 'false: cloudcore serves no edge (no WebSocket listener, no certificate service)' }];
  }
  return [];
}
