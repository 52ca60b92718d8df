/**
 * cloudcore.yaml (KubeEdge `pkg/apis/componentconfig/cloudcore/v1alpha1`) with KubeEdge v1.15.4's defaults at
 * every level, the keys later versions added (marked, no printed default), and our extensions `modules.apiServer`
 * (the embedded API server), `modules.edgeController.nodeMonitorGracePeriod` and
 * `modules.deviceController.statusUpdateIntervalMs`. What each key does here is in
 * effects.ts (docs/config.md).
 */
import { z } from 'zod';
import { bindAddress, bool, intFields, ipList, oneOf, port, posInt, str, strList } from './fields.ts';
import type { HostFacts } from './host.ts';

/**
 * The controllers of `modules.controllerManager.controllers`, named as kube-controller-manager's `--controllers`
 * names them (plus `eventttl`, which a real cluster leaves to the API server's event TTL). There is no `disruption`:
 * the embedded API server keeps PodDisruptionBudget status itself, at each eviction and when pods or owners change.
 */
export const CONTROLLER_NAMES: readonly string[] = [
  'deployment',
  'replicaset',
  'daemonset',
  'statefulset',
  'job',
  'cronjob',
  'ttl-after-finished',
  'garbagecollector',
  'namespace',
  'serviceaccount',
  'endpoint',
  'endpointslice',
  'nodelifecycle',
  'eventttl',
];

export const CLOUDCORE_API_VERSION = 'cloudcore.config.kubeedge.io/v1alpha1';
export const CLOUDCORE_KIND = 'CloudCore';
export const DEFAULT_CLOUDCORE_CONFIG_PATH = '/etc/kubeedge/config/cloudcore.yaml';

const CA_FILE = '/etc/kubeedge/ca/rootCA.crt';
const CA_KEY_FILE = '/etc/kubeedge/ca/rootCA.key';
const CERT_FILE = '/etc/kubeedge/certs/server.crt';
const KEY_FILE = '/etc/kubeedge/certs/server.key';

/** KubeEdge v1.15.4's EdgeController buffer sizes (JSON keys as KubeEdge spells them). */
export const EDGE_CONTROLLER_BUFFER_DEFAULTS: Readonly<Record<string, number>> = {
  configMapEvent: 1,
  createLease: 1524,
  createNode: 1024,
  createPod: 1024,
  deletePod: 1024,
  patchNode: 1274,
  patchPod: 1024,
  podEvent: 1,
  queryConfigMap: 1024,
  queryLease: 1024,
  queryNode: 1524,
  queryPersistentVolume: 1024,
  queryPersistentVolumeClaim: 1024,
  querySecret: 1024,
  queryVolumeAttachment: 1024,
  ruleEndpointsEvent: 1,
  rulesEvent: 1,
  secretEvent: 1,
  serviceAccountToken: 1024,
  updateNode: 1024,
  updateNodeStatus: 1024,
  updatePodStatus: 1024,
};

/** KubeEdge v1.15.4's worker counts; the capitalised keys (and `CreatePodWorks`) really are spelt so in its JSON tags. */
export const EDGE_CONTROLLER_LOAD_DEFAULTS: Readonly<Record<string, number>> = {
  CreatePodWorks: 4,
  ServiceAccountTokenWorkers: 100,
  UpdateRuleStatusWorkers: 4,
  createLeaseWorkers: 500,
  createNodeWorkers: 100,
  deletePodWorkers: 100,
  patchNodeWorkers: 110,
  patchPodWorkers: 100,
  queryConfigMapWorkers: 100,
  queryLeaseWorkers: 100,
  queryNodeWorkers: 500,
  queryPersistentVolumeClaimWorkers: 4,
  queryPersistentVolumeWorkers: 4,
  querySecretWorkers: 100,
  queryVolumeAttachmentWorkers: 4,
  updateNodeStatusWorkers: 1,
  updateNodeWorkers: 4,
  updatePodStatusWorkers: 1,
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
      // KubeEdge v1.18+
      authorization: z
        .strictObject({
          enable: bool(false),
          debug: bool(true),
          modes: z.array(authorizationMode, { error: 'expected a list of modes such as [{node: {enable: true}}]' }).default(() => [{ node: { enable: true } }]),
        })
        .optional(),
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
        monitorServer: z
          .strictObject({ bindAddress: bindAddress('127.0.0.1:9091'), enableProfiling: z.boolean({ error: 'expected true or false' }).optional() })
          .prefault({}),
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
      .optional(),
    modules: z
      .strictObject({
        cloudHub: cloudHub(host),
        edgeController: z
          .strictObject({
            enable: bool(true),
            nodeUpdateFrequency: posInt(10, 'number of seconds'),
            // kubeedge-ts extension: how long a node may stay silent before the embedded API server marks it Unknown
            nodeMonitorGracePeriod: posInt(40, 'number of seconds'),
            buffer: intFields(EDGE_CONTROLLER_BUFFER_DEFAULTS),
            load: intFields(EDGE_CONTROLLER_LOAD_DEFAULTS),
          })
          .prefault({}),
        deviceController: z
          .strictObject({
            enable: bool(true),
            buffer: intFields({ deviceEvent: 1, deviceModelEvent: 1, updateDeviceStatus: 1024 }),
            load: intFields({ updateDeviceStatusWorkers: 1 }),
            // kubeedge-ts extension: at most one Device status write per device per this many ms
            statusUpdateIntervalMs: posInt(1000, 'number of milliseconds'),
          })
          .prefault({}),
        nodeUpgradeJobController: z
          .strictObject({
            enable: bool(false),
            buffer: intFields({ nodeUpgradeJobEvent: 1, updateNodeUpgradeJobStatus: 1024 }),
            load: intFields({ nodeUpgradeJobWorkers: 1 }),
          })
          .prefault({}),
        syncController: z.strictObject({ enable: bool(true) }).prefault({}),
        dynamicController: z.strictObject({ enable: bool(false) }).prefault({}),
        // KubeEdge v1.16+; not built
        taskManager: z
          .strictObject({
            enable: bool(false),
            buffer: intFields({ taskStatus: 1024, taskEvent: 1 }),
            load: intFields({ taskWorkers: 1 }),
          })
          .optional(),
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
        // kubeedge-ts extension: the embedded Kubernetes-compatible API server; `enable` unset means "auto" (apiServerEnabled)
        apiServer: z
          .strictObject({
            enable: z.boolean({ error: 'expected true or false (or leave it out for automatic)' }).optional(),
            address: str('127.0.0.1'),
            port: port(6443),
            dataDir: str('/var/lib/kubeedge/apiserver'),
            adminKubeConfig: str('/etc/kubeedge/admin.kubeconfig'),
          })
          .prefault({}),
        // kubeedge-ts extension: the embedded control plane's controllers (kube-controller-manager's job); `enable`
        // unset means "auto": on exactly when the embedded API server runs (a real cluster has its own).
        controllerManager: z
          .strictObject({
            enable: z.boolean({ error: 'expected true or false (or leave it out for automatic)' }).optional(),
            controllers: z
              .array(
                z.string().refine((c) => c === '*' || CONTROLLER_NAMES.includes(c.replace(/^-/, '')), {
                  error: `expected '*', a controller name or -name; names: ${CONTROLLER_NAMES.join(', ')}`,
                }),
                { error: "expected a list such as ['*', '-cronjob']" },
              )
              .default(() => ['*']),
          })
          .prefault({}),
        // kubeedge-ts extension: the embedded control plane's scheduler; `enable` unset means "auto" as above.
        scheduler: z.strictObject({ enable: z.boolean({ error: 'expected true or false (or leave it out for automatic)' }).optional() }).prefault({}),
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
/** Whether the embedded controllers (or the scheduler) run: explicit `enable` wins, else with the embedded API server. */
export function embeddedControlPlaneEnabled(
  cfg: CloudCoreConfig,
  part: 'controllerManager' | 'scheduler',
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return cfg.modules[part].enable ?? apiServerEnabled(cfg, env);
}

/**
 * The controllers `modules.controllerManager.controllers` selects, with kube-controller-manager's rules: `*`
 * is every controller, `name` adds one, `-name` removes one (a removal wins).
 * @example selectedControllers(['*', '-cronjob'])
 */
export function selectedControllers(list: readonly string[]): string[] {
  const off = new Set(list.filter((c) => c.startsWith('-')).map((c) => c.slice(1)));
  const on = list.includes('*') ? CONTROLLER_NAMES : list.filter((c) => !c.startsWith('-') && c !== '*');
  return on.filter((c) => !off.has(c));
}

export function apiServerEnabled(cfg: CloudCoreConfig, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const enable = cfg.modules.apiServer.enable;
  if (enable !== undefined) return enable;
  const k = cfg.kubeAPIConfig;
  const inCluster = (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '';
  return k.kubeConfig === '' && k.master === '' && !inCluster;
}
