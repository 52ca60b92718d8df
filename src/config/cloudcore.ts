/**
 * cloudcore.yaml (KubeEdge `api/apis/componentconfig/cloudcore/v1alpha1`), with defaults at every level and
 * our extension `modules.apiServer` (the embedded API server) and `modules.edgeController.nodeMonitorGracePeriod`.
 */
import { z } from 'zod';
import { bool, intRecord, ipList, oneOf, port, posInt, str, strList, hostPort } from './fields.ts';
import type { HostFacts } from './host.ts';

export const CLOUDCORE_API_VERSION = 'cloudcore.config.kubeedge.io/v1alpha1';
export const CLOUDCORE_KIND = 'CloudCore';
export const DEFAULT_CLOUDCORE_CONFIG_PATH = '/etc/kubeedge/config/cloudcore.yaml';

const CA_FILE = '/etc/kubeedge/ca/rootCA.crt';
const CA_KEY_FILE = '/etc/kubeedge/ca/rootCA.key';
const CERT_FILE = '/etc/kubeedge/certs/server.crt';
const KEY_FILE = '/etc/kubeedge/certs/server.key';

/** KubeEdge's EdgeController buffer sizes (JSON keys as KubeEdge spells them). */
export const EDGE_CONTROLLER_BUFFER_DEFAULTS: Readonly<Record<string, number>> = {
  updatePodStatus: 1024,
  updateNodeStatus: 1024,
  queryConfigMap: 1024,
  querySecret: 1024,
  queryService: 1024,
  queryEndpoints: 1024,
  podEvent: 1,
  configMapEvent: 1,
  secretEvent: 1,
  serviceEvent: 1,
  endpointsEvent: 1,
  rulesEvent: 1,
  ruleEndpointsEvent: 1,
  queryPersistentVolume: 1024,
  queryPersistentVolumeClaim: 1024,
  queryVolumeAttachment: 1024,
  queryNode: 1024,
  updateNode: 1024,
  deletePod: 1024,
  serviceAccountToken: 1024,
};

/** Worker counts; the last two keys really are capitalised in KubeEdge's JSON tags. */
export const EDGE_CONTROLLER_LOAD_DEFAULTS: Readonly<Record<string, number>> = {
  updatePodStatusWorkers: 1,
  updateNodeStatusWorkers: 1,
  queryConfigMapWorkers: 4,
  querySecretWorkers: 4,
  queryServiceWorkers: 4,
  queryEndpointsWorkers: 4,
  queryPersistentVolumeWorkers: 4,
  queryPersistentVolumeClaimWorkers: 4,
  queryVolumeAttachmentWorkers: 4,
  queryNodeWorkers: 4,
  updateNodeWorkers: 4,
  deletePodWorkers: 4,
  UpdateRuleStatusWorkers: 4,
  ServiceAccountTokenWorkers: 4,
};

const listener = (enable: boolean, address: string, p: number) => z.strictObject({ enable: bool(enable), address: str(address), port: port(p) }).prefault({});

const authorizationMode = z.strictObject({
  node: z.strictObject({ enable: bool(true) }).optional(),
});

function cloudHub(host: HostFacts) {
  return z
    .strictObject({
      enable: bool(true),
      keepaliveInterval: posInt(30, 'number of seconds'),
      nodeLimit: posInt(500, 'number of nodes'),
      tlsCAFile: str(CA_FILE),
      tlsCAKeyFile: str(CA_KEY_FILE),
      tlsCertFile: str(CERT_FILE),
      tlsPrivateKeyFile: str(KEY_FILE),
      writeTimeout: posInt(30, 'number of seconds'),
      quic: z
        .strictObject({
          enable: bool(false),
          address: str('0.0.0.0'),
          port: port(10001),
          maxIncomingStreams: posInt(10000, 'number of streams'),
        })
        .prefault({}),
      unixsocket: z.strictObject({ enable: bool(true), address: str('unix:///var/lib/kubeedge/kubeedge.sock') }).prefault({}),
      websocket: listener(true, '0.0.0.0', 10000),
      https: listener(true, '0.0.0.0', 10002),
      advertiseAddress: ipList([host.ip]),
      dnsNames: strList(['']),
      edgeCertSigningDuration: posInt(365, 'number of days'),
      tokenRefreshDuration: posInt(12, 'number of hours'),
      authorization: z
        .strictObject({
          enable: bool(false),
          debug: bool(true),
          modes: z.array(authorizationMode, { error: 'expected a list of modes such as [{node: {enable: true}}]' }).default(() => [{ node: { enable: true } }]),
        })
        .prefault({}),
    })
    .prefault({});
}

/** Build the cloudcore schema; host facts feed the runtime defaults (advertiseAddress). */
export function cloudCoreSchema(host: HostFacts) {
  return z.strictObject({
    apiVersion: str(CLOUDCORE_API_VERSION),
    kind: str(CLOUDCORE_KIND),
    commonConfig: z
      .strictObject({
        tunnelPort: port(10350),
        monitorServer: z.strictObject({ bindAddress: hostPort('127.0.0.1:9091'), enableProfiling: bool(false) }).prefault({}),
      })
      .prefault({}),
    kubeAPIConfig: z
      .strictObject({
        master: str(''),
        kubeConfig: str(''),
        contentType: str('application/vnd.kubernetes.protobuf'),
        qps: posInt(2500, 'number of requests per second'),
        burst: posInt(5000, 'number of requests'),
      })
      .prefault({}),
    featureGates: z
      .record(z.string(), z.boolean({ error: 'expected true or false' }), { error: 'expected a map of feature names to true or false' })
      .default(() => ({})),
    modules: z
      .strictObject({
        cloudHub: cloudHub(host),
        edgeController: z
          .strictObject({
            enable: bool(true),
            nodeUpdateFrequency: posInt(10, 'number of seconds'),
            // ours: how long a node may stay silent before the embedded API server marks it Unknown
            nodeMonitorGracePeriod: posInt(40, 'number of seconds'),
            buffer: intRecord(EDGE_CONTROLLER_BUFFER_DEFAULTS),
            load: intRecord(EDGE_CONTROLLER_LOAD_DEFAULTS),
          })
          .prefault({}),
        deviceController: z
          .strictObject({
            enable: bool(true),
            buffer: intRecord({ updateDeviceTwins: 1024, updateDeviceStates: 1024, deviceEvent: 1, deviceModelEvent: 1 }),
            load: intRecord({ updateDeviceStatusWorkers: 1 }),
          })
          .prefault({}),
        syncController: z.strictObject({ enable: bool(true) }).prefault({}),
        dynamicController: z.strictObject({ enable: bool(false) }).prefault({}),
        taskManager: z
          .strictObject({
            enable: bool(false),
            buffer: intRecord({ taskStatus: 1024, taskEvent: 1 }),
            load: intRecord({ taskWorkers: 1 }),
          })
          .prefault({}),
        cloudStream: z
          .strictObject({
            enable: bool(false),
            tlsTunnelCAFile: str(CA_FILE),
            tlsTunnelCertFile: str(CERT_FILE),
            tlsTunnelPrivateKeyFile: str(KEY_FILE),
            tunnelPort: port(10004),
            tlsStreamCAFile: str('/etc/kubeedge/ca/streamCA.crt'),
            tlsStreamCertFile: str('/etc/kubeedge/certs/stream.crt'),
            tlsStreamPrivateKeyFile: str('/etc/kubeedge/certs/stream.key'),
            streamPort: port(10003),
          })
          .prefault({}),
        router: z
          .strictObject({
            enable: bool(false),
            address: str('0.0.0.0'),
            port: port(9443),
            restTimeout: posInt(60, 'number of seconds'),
          })
          .prefault({}),
        iptablesManager: z.strictObject({ enable: bool(true), mode: oneOf(['internal', 'external'] as const, 'internal') }).prefault({}),
        // ours: the embedded Kubernetes-compatible API server; `enable` unset means "auto" (apiServerEnabled)
        apiServer: z
          .strictObject({
            enable: z.boolean({ error: 'expected true or false (or leave it out for automatic)' }).optional(),
            address: str('127.0.0.1'),
            port: port(6443),
            dataDir: str('/var/lib/kubeedge/apiserver'),
            adminKubeConfig: str('/etc/kubeedge/admin.kubeconfig'),
          })
          .prefault({}),
      })
      .prefault({}),
  });
}

export type CloudCoreSchema = ReturnType<typeof cloudCoreSchema>;
export type CloudCoreConfig = z.output<CloudCoreSchema>;

/**
 * Whether cloudcore runs the embedded API server: when `modules.apiServer.enable` is true, or when it is unset
 * and nothing points at a real cluster (no kubeConfig, no master, not inside a pod).
 * @example apiServerEnabled(cfg, process.env)
 */
export function apiServerEnabled(cfg: CloudCoreConfig, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const enable = cfg.modules.apiServer.enable;
  if (enable !== undefined) return enable;
  const k = cfg.kubeAPIConfig;
  const inCluster = (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '';
  return k.kubeConfig === '' && k.master === '' && !inCluster;
}
