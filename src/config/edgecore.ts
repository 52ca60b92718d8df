/**
 * edgecore.yaml v1alpha2 (KubeEdge `pkg/apis/componentconfig/edgecore/v1alpha2`) with KubeEdge v1.15.4's
 * defaults at every level, the keys later versions added (marked `v1.16+` and so on, no printed default), and our
 * `modules.edgeMesh` (the v1.7-era EdgeMesh keys). What each key does here is in effects.ts (docs/config.md).
 * Old v1alpha1 files are converted in v1alpha1.ts.
 */
import { z } from 'zod';
import { KUBEEDGE_DEFAULT_ENDPOINT } from '../containers/endpoints.ts';
import {
  anyValue,
  bool,
  cidr,
  duration,
  bindAddress,
  hostPort,
  int,
  intRange,
  nodeName,
  nonNegInt,
  num,
  oneOf,
  port,
  posInt,
  str,
  stringMap,
  strList,
  url,
} from './fields.ts';
import { EDGED_KEYS_WITHOUT_DEFAULT, KUBELET_KEYS_WITHOUT_DEFAULT } from './effects.ts';
import type { HostFacts } from './host.ts';

/** Where edgecore serves /metrics by default: loopback, beside the kubelet-style ports (10350 is edged's). */
export const EDGE_METRICS_ADDRESS = '127.0.0.1:10352';

export const EDGECORE_API_VERSION = 'edgecore.config.kubeedge.io/v1alpha2';
export const EDGECORE_V1ALPHA1_API_VERSION = 'edgecore.config.kubeedge.io/v1alpha1';
export const EDGECORE_KIND = 'EdgeCore';
export const DEFAULT_EDGECORE_CONFIG_PATH = '/etc/kubeedge/config/edgecore.yaml';
export const DEFAULT_PROJECT_ID = 'e632aba927ea4ac2b575ec1603d56f10';

const CA_FILE = '/etc/kubeedge/ca/rootCA.crt';
const CERT_FILE = '/etc/kubeedge/certs/server.crt';
const KEY_FILE = '/etc/kubeedge/certs/server.key';

/** kubelet's default hard eviction thresholds. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'imagefs.available': '15%',
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
};

const percent = (d: number) => intRange(d, 0, 100, 'percent');
const strListOptional = () => z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).optional();

/** KubeEdge v1.15.4's `tailoredKubeletConfig.logging` default (k8s component-base LoggingConfiguration). */
const DEFAULT_KUBELET_LOGGING = { flushFrequency: 5_000_000_000, format: 'text', options: { json: { infoBufferSize: '0' } }, verbosity: 0 };

/**
 * The tailored KubeletConfiguration, with every key KubeEdge v1.15.4 knows and its v1.15.4 default. Which of
 * them kubeedge-ts honours is in effects.ts; the rest are accepted and reported there. `anyValue` keys have no
 * default in KubeEdge (omitted from `--defaultconfig`).
 */
const tailoredKubeletConfig = z
  .strictObject({
    address: str('127.0.0.1'),
    cgroupDriver: oneOf(['cgroupfs', 'systemd'] as const, 'cgroupfs'),
    cgroupsPerQOS: bool(true),
    clusterDomain: str('cluster.local'),
    configMapAndSecretChangeDetectionStrategy: oneOf(['Get', 'Cache', 'Watch'] as const, 'Get'),
    containerLogMaxFiles: posInt(5, 'number of files'),
    containerLogMaxSize: str('10Mi'),
    contentType: str('application/json'),
    cpuCFSQuota: bool(true),
    cpuCFSQuotaPeriod: duration('100ms'),
    cpuManagerPolicy: str('none'),
    cpuManagerReconcilePeriod: duration('10s'),
    enableControllerAttachDetach: bool(true),
    enableDebugFlagsHandler: bool(true),
    enableDebuggingHandlers: bool(true),
    enableProfilingHandler: bool(true),
    enableSystemLogHandler: bool(true),
    enforceNodeAllocatable: strList(['pods']),
    evictionHard: stringMap({ ...DEFAULT_EVICTION_HARD }),
    evictionPressureTransitionPeriod: duration('5m0s'),
    failSwapOn: bool(false),
    hairpinMode: str('promiscuous-bridge'),
    imageGCHighThresholdPercent: percent(80),
    imageGCLowThresholdPercent: percent(40),
    imageMinimumGCAge: duration('2m0s'),
    iptablesDropBit: intRange(15, 0, 31, 'bit'),
    iptablesMasqueradeBit: intRange(14, 0, 31, 'bit'),
    logging: z
      .record(z.string(), z.unknown(), { error: 'expected a mapping (kubelet logging options)' })
      .default(() => structuredClone(DEFAULT_KUBELET_LOGGING)),
    makeIPTablesUtilChains: bool(true),
    maxOpenFiles: posInt(1_000_000, 'number of files'),
    maxPods: posInt(110, 'number of pods'),
    memoryManagerPolicy: str('None'),
    memorySwap: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).default(() => ({})),
    memoryThrottlingFactor: num(0.8),
    nodeLeaseDurationSeconds: posInt(40, 'number of seconds'),
    nodeStatusMaxImages: int(0),
    nodeStatusReportFrequency: duration('5m0s'),
    nodeStatusUpdateFrequency: duration('10s'),
    oomScoreAdj: intRange(-999, -1000, 1000, ''),
    podPidsLimit: int(-1),
    readOnlyPort: intRange(10350, 0, 65535, '0 disables it'),
    registerNode: bool(true),
    registryBurst: nonNegInt(10, ''),
    registryPullQPS: nonNegInt(5, ''),
    resolvConf: str('/etc/resolv.conf'),
    runtimeRequestTimeout: duration('2m0s'),
    seccompDefault: bool(false),
    serializeImagePulls: bool(true),
    shutdownGracePeriod: duration('0s'),
    shutdownGracePeriodCriticalPods: duration('0s'),
    staticPodPath: str('/etc/kubeedge/manifests'),
    streamingConnectionIdleTimeout: duration('4h0m0s'),
    syncFrequency: duration('1m0s'),
    topologyManagerPolicy: str('none'),
    topologyManagerScope: str('container'),
    volumePluginDir: str('/usr/libexec/kubernetes/kubelet-plugins/volume/exec/'),
    volumeStatsAggPeriod: duration('1m0s'),
    // KubeEdge v1.15.4 keys with no default (omitempty): accepted as written
    clusterDNS: z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).optional(),
    ...Object.fromEntries(KUBELET_KEYS_WITHOUT_DEFAULT.map((k) => [k, anyValue()])),
    // KubeEdge v1.16+ (kubelet 1.27+): where the runtime endpoint lives in newer files; wins over edged.remote*
    containerRuntimeEndpoint: z.string({ error: 'expected a string' }).optional(),
    imageServiceEndpoint: z.string({ error: 'expected a string' }).optional(),
    // kubelet 1.29+'s KubeletConfiguration key: where CRI containers' logs go (kubelet's /var/log/pods when unset)
    podLogsDir: z.string({ error: 'expected a string' }).optional(),
  })
  .superRefine((k, ctx) => {
    const { imageGCLowThresholdPercent: low, imageGCHighThresholdPercent: high } = k;
    // zod may run this on a partly invalid object; compare only real numbers
    if (typeof low === 'number' && typeof high === 'number' && low > high) {
      ctx.addIssue({
        code: 'custom',
        path: ['imageGCLowThresholdPercent'],
        message: `must not exceed imageGCHighThresholdPercent (${high}), got ${low}`,
      });
    }
  })
  .prefault({});

function edged(host: HostFacts) {
  return z
    .strictObject({
      enable: bool(true),
      containerRuntime: oneOf(['remote', 'docker'] as const, 'remote'),
      hostnameOverride: nodeName(host.hostname),
      masterServiceNamespace: str('default'),
      maxContainerCount: z
        .int({ error: 'must be an integer (-1 means no limit)' })
        .min(-1, { error: 'must be an integer >= -1 (-1 means no limit)' })
        .default(-1),
      maxPerPodContainerCount: nonNegInt(1, ''),
      minimumGCAge: duration('0s'),
      podSandboxImage: str('kubeedge/pause:3.6'),
      registerNode: bool(true),
      registerNodeNamespace: str('default'),
      registerSchedulable: bool(true),
      remoteImageEndpoint: str(KUBEEDGE_DEFAULT_ENDPOINT),
      remoteRuntimeEndpoint: str(KUBEEDGE_DEFAULT_ENDPOINT),
      rootDirectory: str('/var/lib/edged'),
      tailoredKubeletConfig,
      // KubeEdge v1.15.4 keys with no default (omitempty)
      customInterfaceName: str(''),
      nodeIP: str(''),
      nodeLabels: stringMap({}),
      runtimeCgroups: str(''),
      ...Object.fromEntries(EDGED_KEYS_WITHOUT_DEFAULT.map((k) => [k, anyValue()])),
      // KubeEdge v1.19+
      reportEvent: z.boolean({ error: 'expected true or false' }).optional(),
      // kubeedge-ts extension: the Docker network pod sandboxes join, unset = bridge (several edges on one host each get their own)
      dockerNetwork: z.string({ error: 'expected a Docker network name' }).optional(),
    })
    .transform((e) => ({ ...e, tailoredKubeletConfig: { ...e.tailoredKubeletConfig, ...runtimeEndpoints(e) } }))
    .prefault({});
}

/**
 * The endpoints edged uses, as KubeEdge v1.16-v1.17 decide them: a non-empty
 * `tailoredKubeletConfig.containerRuntimeEndpoint` wins (with its imageServiceEndpoint); otherwise v1.15's
 * `edged.remoteRuntimeEndpoint` and `remoteImageEndpoint`. An empty image endpoint follows the runtime endpoint.
 */
export function runtimeEndpoints(e: {
  remoteRuntimeEndpoint: string;
  remoteImageEndpoint: string;
  tailoredKubeletConfig: { containerRuntimeEndpoint?: string | undefined; imageServiceEndpoint?: string | undefined };
}): { containerRuntimeEndpoint: string; imageServiceEndpoint: string } {
  const k = e.tailoredKubeletConfig;
  const newer = k.containerRuntimeEndpoint !== undefined && k.containerRuntimeEndpoint !== '';
  const runtime = newer ? (k.containerRuntimeEndpoint ?? '') : e.remoteRuntimeEndpoint;
  const image = newer ? (k.imageServiceEndpoint ?? '') : e.remoteImageEndpoint;
  return { containerRuntimeEndpoint: runtime, imageServiceEndpoint: image !== '' ? image : runtime };
}

const stream = (server: string) => ({
  handshakeTimeout: posInt(30, 'number of seconds'),
  readDeadline: posInt(15, 'number of seconds'),
  writeDeadline: posInt(15, 'number of seconds'),
  server: hostPort(server),
});

function edgeHub(host: HostFacts) {
  return z
    .strictObject({
      enable: bool(true),
      heartbeat: posInt(15, 'number of seconds'),
      messageQPS: posInt(30, 'number of messages per second'),
      messageBurst: posInt(60, 'number of messages'),
      projectID: str(DEFAULT_PROJECT_ID),
      tlsCaFile: str(CA_FILE),
      tlsCertFile: str(CERT_FILE),
      tlsPrivateKeyFile: str(KEY_FILE),
      quic: z.strictObject({ enable: bool(false), ...stream(`${host.ip}:10001`) }).prefault({}),
      websocket: z.strictObject({ enable: bool(true), ...stream(`${host.ip}:10000`) }).prefault({}),
      httpServer: url(`https://${host.ip}:10002`, ['https:']),
      token: str(''),
      rotateCertificates: bool(true),
    })
    .superRefine((h, ctx) => {
      // KubeEdge's validation: an enabled edgeHub speaks exactly one transport.
      const ws: unknown = h.websocket.enable;
      const quic: unknown = h.quic.enable;
      if (h.enable === true && typeof ws === 'boolean' && typeof quic === 'boolean' && ws === quic) {
        ctx.addIssue({
          code: 'custom',
          path: ['websocket', 'enable'],
          message: `exactly one of websocket.enable and quic.enable must be true, got websocket.enable=${ws} and quic.enable=${quic}`,
        });
      }
    })
    .prefault({});
}

const eventBus = z
  .strictObject({
    enable: bool(true),
    mqttQOS: intRange(0, 0, 2, 'MQTT QoS'),
    mqttRetain: bool(false),
    mqttSessionQueueSize: posInt(100, 'number of messages'),
    mqttServerExternal: url('tcp://127.0.0.1:1883', ['tcp:', 'ssl:', 'tls:', 'mqtt:', 'mqtts:', 'ws:', 'wss:']),
    mqttServerInternal: url('tcp://127.0.0.1:1884', ['tcp:', 'ssl:', 'tls:', 'mqtt:', 'mqtts:', 'ws:', 'wss:']),
    mqttSubClientID: str(''),
    mqttPubClientID: str(''),
    mqttUsername: str(''),
    mqttPassword: str(''),
    mqttMode: intRange(2, 0, 2, '0 internal broker, 1 both, 2 external broker'),
    eventBusTLS: z
      .strictObject({
        enable: bool(false),
        tlsMqttCAFile: str(CA_FILE),
        tlsMqttCertFile: str(CERT_FILE),
        tlsMqttPrivateKeyFile: str(KEY_FILE),
      })
      .prefault({}),
  })
  .prefault({});

const metaManager = z
  .strictObject({
    enable: bool(true),
    contextSendGroup: str('hub'),
    contextSendModule: str('websocket'),
    remoteQueryTimeout: posInt(60, 'number of seconds'),
    metaServer: z
      .strictObject({
        enable: bool(false),
        server: hostPort('127.0.0.1:10550'),
        tlsCaFile: str(CA_FILE),
        tlsCertFile: str(CERT_FILE),
        tlsPrivateKeyFile: str(KEY_FILE),
        serviceAccountIssuers: strList(['https://kubernetes.default.svc.cluster.local']),
        apiAudiences: strListOptional(),
        serviceAccountKeyFiles: strListOptional(),
        // KubeEdge v1.17+
        dummyServer: z.string({ error: 'expected host:port' }).optional(),
      })
      .prefault({}),
  })
  .prefault({});

/** Build the edgecore v1alpha2 schema; host facts feed the runtime defaults (hostname, local IP). */
export function edgeCoreSchema(host: HostFacts) {
  return z.strictObject({
    apiVersion: str(EDGECORE_API_VERSION),
    kind: str(EDGECORE_KIND),
    // KubeEdge v1.19+
    edgecoreVersion: z.string({ error: 'expected a string' }).optional(),
    featureGates: z
      .record(z.string(), z.boolean({ error: 'expected true or false' }), { error: 'expected a map of feature names to true or false' })
      .optional(),
    database: z
      .strictObject({
        driverName: oneOf(['sqlite3'] as const, 'sqlite3'),
        aliasName: str('default'),
        dataSource: str('/var/lib/kubeedge/edgecore.db'),
      })
      .prefault({}),
    modules: z
      .strictObject({
        edged: edged(host),
        edgeHub: edgeHub(host),
        eventBus,
        metaManager,
        serviceBus: z.strictObject({ enable: bool(false), server: str('127.0.0.1'), port: port(9060), timeout: posInt(60, 'number of seconds') }).prefault({}),
        // KubeEdge v1.16+ added dmiSockPath
        deviceTwin: z.strictObject({ enable: bool(true), dmiSockPath: z.string({ error: 'expected a string' }).optional() }).prefault({}),
        dbTest: z.strictObject({ enable: bool(false) }).prefault({}),
        edgeStream: z
          .strictObject({
            enable: bool(false),
            ...stream('127.0.0.1:10004'),
            tlsTunnelCAFile: str(CA_FILE),
            tlsTunnelCertFile: str(CERT_FILE),
            tlsTunnelPrivateKeyFile: str(KEY_FILE),
          })
          .prefault({}),
        // KubeEdge v1.16+; not built
        taskManager: z.strictObject({ enable: bool(false) }).optional(),
        // kubeedge-ts extension: EdgeMesh as it lived inside edgecore v1.1-v1.7, plus where its DNS listens and forwards
        edgeMesh: z
          .strictObject({
            enable: bool(false),
            lbStrategy: oneOf(['RoundRobin', 'Random'] as const, 'RoundRobin'),
            listenInterface: str('docker0'),
            subNet: cidr('9.251.0.0/16'),
            listenPort: port(40001),
            // 0 = any free port (tests; pods cannot be pointed at it)
            dnsPort: z
              .int({ error: 'must be a port number 0-65535' })
              .min(0, { error: 'must be a port number 0-65535' })
              .max(65535, { error: 'must be a port number 0-65535' })
              .default(53),
            upstreamResolvConf: str('/etc/resolv.conf'),
          })
          .prefault({}),
        // kubeedge-ts extension: edgecore's Prometheus endpoint (cloudcore's is commonConfig.monitorServer)
        metrics: z.strictObject({ enable: bool(true), bindAddress: bindAddress(EDGE_METRICS_ADDRESS) }).prefault({}),
      })
      .prefault({}),
  });
}

export type EdgeCoreSchema = ReturnType<typeof edgeCoreSchema>;
export type EdgeCoreConfig = z.output<EdgeCoreSchema>;
