/**
 * Reads the old edgecore v1alpha1 layout (KubeEdge up to v1.11) by rewriting it into the v1alpha2 shape before
 * validation. edged's flat kubelet-like fields move into `tailoredKubeletConfig`; the runtime endpoint follows
 * `runtimeType`. Every moved key remembers where it came from so problems point at the line the user wrote.
 */
import { DOCKER_ENDPOINT } from '../containers/endpoints.ts';
import { EDGECORE_API_VERSION } from './edgecore.ts';

export type Path = (string | number)[];

export type Conversion = {
  raw: Record<string, unknown>;
  /** New dotted path -> the path the value had in the v1alpha1 file. */
  renames: Map<string, Path>;
  /** Keys in the v1alpha1 file with no v1alpha2 meaning (path and why), reported as warnings. */
  dropped: { path: Path; reason: string }[];
  /** Values that cannot be converted at all. */
  problems: { path: Path; message: string }[];
};

/** edged keys that keep their name at edged level. */
const EDGED_SAME = [
  'enable',
  'hostnameOverride',
  'nodeIP',
  'podSandboxImage',
  'registerNodeNamespace',
  'customInterfaceName',
  'nodeLabels',
  'registerSchedulable',
  'reportEvent',
  'rootDirectory',
];

/** edged key -> key under tailoredKubeletConfig. */
const EDGED_TO_KUBELET: Readonly<Record<string, string>> = {
  cgroupDriver: 'cgroupDriver',
  cgroupsPerQOS: 'cgroupsPerQOS',
  clusterDomain: 'clusterDomain',
  registerNode: 'registerNode',
  imageGCHighThreshold: 'imageGCHighThresholdPercent',
  imageGCLowThreshold: 'imageGCLowThresholdPercent',
};

/** v1alpha1 edged keys that have no v1alpha2 equivalent in this implementation. */
const EDGED_OBSOLETE = [
  'cgroupRoot',
  'cniBinDir',
  'cniCacheDirs',
  'cniConfDir',
  'concurrentConsumers',
  'devicePluginEnabled',
  'edgedMemoryCapacity',
  'enableMetrics',
  'gpuPluginEnabled',
  'imagePullProgressDeadline',
  'networkPluginMTU',
  'networkPluginName',
  'runtimeRequestTimeout',
  'volumeStatsAggPeriod',
];

const RUNTIME_KEYS = ['runtimeType', 'dockerAddress', 'remoteRuntimeEndpoint', 'remoteImageEndpoint'];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isEdgeCoreV1alpha1(raw: Record<string, unknown>): boolean {
  return typeof raw['apiVersion'] === 'string' && raw['apiVersion'].endsWith('/v1alpha1');
}

/** Rewrites a v1alpha1 edgecore tree (already stripped of nulls) into v1alpha2. Does not mutate `raw`. */
export function convertEdgeCoreV1alpha1(raw: Record<string, unknown>): Conversion {
  const out: Record<string, unknown> = structuredClone(raw);
  out['apiVersion'] = EDGECORE_API_VERSION;
  const conv: Conversion = { raw: out, renames: new Map(), dropped: [], problems: [] };
  const modules = out['modules'];
  if (!isMap(modules)) return conv;

  const meta = modules['metaManager'];
  if (isMap(meta) && 'podStatusSyncInterval' in meta) {
    delete meta['podStatusSyncInterval'];
    conv.dropped.push({
      path: ['modules', 'metaManager', 'podStatusSyncInterval'],
      reason: 'v1alpha1 key with no v1alpha2 equivalent (pod status is reported on change and with node status), ignored',
    });
  }

  const old = modules['edged'];
  if (!isMap(old)) return conv;
  const from = (k: string): Path => ['modules', 'edged', k];
  const edged: Record<string, unknown> = {};
  const kubelet: Record<string, unknown> = {};
  const moveTo = (target: Record<string, unknown>, newPath: string, key: string, oldKey: string, value: unknown) => {
    target[key] = value;
    conv.renames.set(newPath, from(oldKey));
  };

  for (const [k, v] of Object.entries(old)) {
    if (EDGED_SAME.includes(k)) {
      edged[k] = v;
    } else if (k === 'interfaceName') {
      moveTo(edged, 'modules.edged.customInterfaceName', 'customInterfaceName', k, v);
    } else if (k === 'labels') {
      moveTo(edged, 'modules.edged.nodeLabels', 'nodeLabels', k, v);
    } else if (k === 'maximumDeadContainersPerPod') {
      moveTo(edged, 'modules.edged.maxPerPodContainerCount', 'maxPerPodContainerCount', k, v);
    } else if (EDGED_TO_KUBELET[k] !== undefined) {
      const nk = EDGED_TO_KUBELET[k];
      moveTo(kubelet, `modules.edged.tailoredKubeletConfig.${nk}`, nk, k, v);
    } else if (k === 'clusterDNS') {
      // v1alpha1 held one comma-separated string; v1alpha2 a list
      const list =
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '')
          : v;
      moveTo(kubelet, 'modules.edged.tailoredKubeletConfig.clusterDNS', 'clusterDNS', k, list);
    } else if (k === 'nodeStatusUpdateFrequency') {
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) {
        moveTo(kubelet, 'modules.edged.tailoredKubeletConfig.nodeStatusUpdateFrequency', k, k, `${v}s`);
      } else {
        conv.problems.push({ path: from(k), message: `must be a positive integer number of seconds (v1alpha1), got ${JSON.stringify(v)}` });
      }
    } else if (RUNTIME_KEYS.includes(k)) {
      // handled below, together
    } else if (EDGED_OBSOLETE.includes(k)) {
      conv.dropped.push({ path: from(k), reason: 'v1alpha1 key with no v1alpha2 equivalent, ignored' });
    } else {
      edged[k] = v; // unknown: left for the schema to warn about
    }
  }

  const runtimeType = old['runtimeType'] ?? 'docker';
  if (runtimeType === 'docker') {
    const endpoint = old['dockerAddress'] ?? DOCKER_ENDPOINT;
    kubelet['containerRuntimeEndpoint'] = endpoint;
    kubelet['imageServiceEndpoint'] = endpoint;
    if ('dockerAddress' in old) {
      conv.renames.set('modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint', from('dockerAddress'));
      conv.renames.set('modules.edged.tailoredKubeletConfig.imageServiceEndpoint', from('dockerAddress'));
    }
  } else if (runtimeType === 'remote') {
    const endpoint = old['remoteRuntimeEndpoint'] ?? 'unix:///var/run/dockershim.sock';
    kubelet['containerRuntimeEndpoint'] = endpoint;
    kubelet['imageServiceEndpoint'] = old['remoteImageEndpoint'] ?? endpoint;
    if ('remoteRuntimeEndpoint' in old) conv.renames.set('modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint', from('remoteRuntimeEndpoint'));
    if ('remoteImageEndpoint' in old) conv.renames.set('modules.edged.tailoredKubeletConfig.imageServiceEndpoint', from('remoteImageEndpoint'));
  } else {
    conv.problems.push({ path: from('runtimeType'), message: `must be one of docker, remote, got ${JSON.stringify(runtimeType)}` });
  }

  edged['tailoredKubeletConfig'] = kubelet;
  modules['edged'] = edged;
  return conv;
}
