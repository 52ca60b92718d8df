/**
 * edgecore.yaml v1alpha2 (KubeEdge `api/apis/componentconfig/edgecore/v1alpha2`), with defaults at every level
 * and our `modules.edgeMesh` (the v1.7-era EdgeMesh keys). Old v1alpha1 files are converted in v1alpha1.ts.
 */
import { z } from 'zod';
import { bool, cidr, duration, hostPort, intRange, nodeName, nonNegInt, oneOf, port, posInt, str, stringMap, strList, url } from './fields.ts';
import type { HostFacts } from './host.ts';

export const EDGECORE_API_VERSION = 'edgecore.config.kubeedge.io/v1alpha2';
export const EDGECORE_V1ALPHA1_API_VERSION = 'edgecore.config.kubeedge.io/v1alpha1';
export const EDGECORE_KIND = 'EdgeCore';
export const DEFAULT_EDGECORE_CONFIG_PATH = '/etc/kubeedge/config/edgecore.yaml';
export const DEFAULT_PROJECT_ID = 'e632aba927ea4ac2b575ec1603d56f10';

const CA_FILE = '/etc/kubeedge/ca/rootCA.crt';
const CERT_FILE = '/etc/kubeedge/certs/server.crt';
const KEY_FILE = '/etc/kubeedge/certs/server.key';
const CONTAINERD = 'unix:///run/containerd/containerd.sock';

/** kubelet's default hard eviction thresholds. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'imagefs.available': '15%',
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
};

const percent = (d: number) => intRange(d, 0, 100, 'percent');

/**
 * The tailored KubeletConfiguration. Loose: it is a full kubelet config in KubeEdge, so keys we do not model
 * are kept, not warned about. An unset imageServiceEndpoint follows containerRuntimeEndpoint, as in kubelet.
 */
const tailoredKubeletConfig = z
  .looseObject({
    staticPodPath: str('/etc/kubeedge/manifests'),
    address: str('127.0.0.1'),
    readOnlyPort: intRange(10350, 0, 65535, '0 disables it'),
    clusterDomain: str('cluster.local'),
    clusterDNS: strList([]),
    syncFrequency: duration('1m'),
    nodeStatusUpdateFrequency: duration('10s'),
    nodeStatusReportFrequency: duration('5m'),
    nodeLeaseDurationSeconds: posInt(40, 'number of seconds'),
    cgroupDriver: oneOf(['cgroupfs', 'systemd'] as const, 'cgroupfs'),
    cgroupsPerQOS: bool(true),
    containerRuntimeEndpoint: str(CONTAINERD),
    imageServiceEndpoint: str(''),
    maxPods: posInt(110, 'number of pods'),
    imageGCHighThresholdPercent: percent(85),
    imageGCLowThresholdPercent: percent(80),
    registerNode: bool(true),
    contentType: str('application/json'),
    evictionHard: stringMap({ ...DEFAULT_EVICTION_HARD }),
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
  .transform((k) => ({ ...k, imageServiceEndpoint: k.imageServiceEndpoint !== '' ? k.imageServiceEndpoint : k.containerRuntimeEndpoint }))
  .prefault({});

function edged(host: HostFacts) {
  return z
    .strictObject({
      enable: bool(true),
      reportEvent: bool(false),
      registerNodeNamespace: str('default'),
      customInterfaceName: str(''),
      hostnameOverride: nodeName(host.hostname),
      nodeIP: str(''),
      podSandboxImage: str('kubeedge/pause:3.6'),
      runtimeCgroups: str(''),
      rootDirectory: str('/var/lib/kubelet'),
      maxContainerCount: z
        .int({ error: 'must be an integer (-1 means no limit)' })
        .min(-1, { error: 'must be an integer >= -1 (-1 means no limit)' })
        .default(-1),
      maxPerPodContainerCount: nonNegInt(1, ''),
      minimumGCAge: duration('0s'),
      nodeLabels: stringMap({}),
      registerSchedulable: bool(true),
      tailoredKubeletConfig,
    })
    .prefault({});
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
        dummyServer: hostPort('169.254.30.10:10550'),
      })
      .prefault({}),
  })
  .prefault({});

/** Build the edgecore v1alpha2 schema; host facts feed the runtime defaults (hostname, local IP). */
export function edgeCoreSchema(host: HostFacts) {
  return z.strictObject({
    apiVersion: str(EDGECORE_API_VERSION),
    kind: str(EDGECORE_KIND),
    edgecoreVersion: str(''),
    featureGates: z
      .record(z.string(), z.boolean({ error: 'expected true or false' }), { error: 'expected a map of feature names to true or false' })
      .default(() => ({})),
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
        deviceTwin: z.strictObject({ enable: bool(true), dmiSockPath: str('/etc/kubeedge/') }).prefault({}),
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
        taskManager: z.strictObject({ enable: bool(false) }).prefault({}),
        // ours: EdgeMesh as it lived inside edgecore v1.1-v1.7
        edgeMesh: z
          .strictObject({
            enable: bool(false),
            lbStrategy: oneOf(['RoundRobin', 'Random'] as const, 'RoundRobin'),
            listenInterface: str('docker0'),
            subNet: cidr('9.251.0.0/16'),
            listenPort: port(40001),
          })
          .prefault({}),
      })
      .prefault({}),
  });
}

export type EdgeCoreSchema = ReturnType<typeof edgeCoreSchema>;
export type EdgeCoreConfig = z.output<EdgeCoreSchema>;
