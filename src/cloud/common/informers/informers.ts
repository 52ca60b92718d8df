import type { Logger } from '../../../core/log.ts';
import type { k8s } from '../../../kube/client.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { EDGE_ROLE_LABEL } from '../nodes.ts';
import { Informer } from './informer.ts';

/** Read access to the cached cluster objects, for modules that only read them (the synccontroller). */
export type LiveObjects = {
  /** Resolves once nodes, pods, configmaps and secrets have been listed. */
  ready(): Promise<void>;
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Pods bound to an edge node. */
  podsOn(nodeId: string): KubeObject[];
  /** Pods bound to any edge node. */
  podsOnEdge(): KubeObject[];
  isEdgeNode(nodeId: string): boolean;
};

export type CloudInformersOptions = {
  kc: k8s.KubeConfig;
  kube: KubeRest;
  log: Logger;
  /** Watch retry backoff. */
  backoff?: { initialMs: number; maxMs: number };
  /** Also list+watch devices.kubeedge.io Devices and DeviceModels (only the devicecontroller reads them). */
  withDevices?: boolean;
};

/**
 * cloudcore's shared informers (KubeEdge's `cloud/pkg/common/informers`): one list+watch per collection for
 * the whole process, whatever number of modules read it. EdgeController adds its event handlers when it is
 * built; SyncController only reads the caches. Started by the first module that needs them and stopped with
 * the last; edge nodes are listed first, so the first pod list already knows which nodes are edge nodes.
 */
export class CloudInformers implements LiveObjects {
  readonly nodes: Informer;
  readonly pods: Informer;
  readonly configmaps: Informer;
  readonly secrets: Informer;
  readonly devices: Informer;
  readonly deviceModels: Informer;
  readonly #withDevices: boolean;
  #users = 0;
  #started = false;
  #resolveReady: () => void = () => {};
  readonly #ready: Promise<void>;

  constructor(o: CloudInformersOptions) {
    const base = { kc: o.kc, kube: o.kube, log: o.log, ...(o.backoff === undefined ? {} : { backoff: o.backoff }) };
    this.nodes = new Informer({ ...base, path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1', labelSelector: EDGE_ROLE_LABEL });
    this.pods = new Informer({ ...base, path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1' });
    this.configmaps = new Informer({ ...base, path: '/api/v1/configmaps', kind: 'ConfigMap', apiVersion: 'v1' });
    this.secrets = new Informer({ ...base, path: '/api/v1/secrets', kind: 'Secret', apiVersion: 'v1' });
    const dev = { ...base, apiVersion: 'devices.kubeedge.io/v1beta1' };
    this.devices = new Informer({ ...dev, path: '/apis/devices.kubeedge.io/v1beta1/devices', kind: 'Device' });
    this.deviceModels = new Informer({ ...dev, path: '/apis/devices.kubeedge.io/v1beta1/devicemodels', kind: 'DeviceModel' });
    this.#withDevices = o.withDevices ?? false;
    this.#ready = new Promise((r) => (this.#resolveReady = r));
  }

  /** Counted: the first call starts the watches, later ones only register one more user. */
  start(): void {
    this.#users++;
    if (this.#started) return;
    this.#started = true;
    this.nodes.start();
    void (async () => {
      await this.nodes.synced;
      this.pods.start();
      await this.pods.synced;
      this.configmaps.start();
      this.secrets.start();
      await Promise.all([this.configmaps.synced, this.secrets.synced]);
      this.#resolveReady();
    })();
    if (this.#withDevices) {
      // Models first, so a device's model is known when the device's first event arrives (as in KubeEdge).
      this.deviceModels.start();
      void this.deviceModels.synced.then(() => this.devices.start());
    }
  }

  /** Counted like {@link start}: the watches stop when the last user stops. */
  stop(): void {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users > 0) return;
    for (const i of [this.nodes, this.pods, this.configmaps, this.secrets, this.deviceModels, this.devices]) i.stop();
  }

  /** Resolves once everything has been listed (or the informers were stopped). */
  ready(): Promise<void> {
    return this.#ready;
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    const inf = kind === 'Pod' ? this.pods : kind === 'ConfigMap' ? this.configmaps : kind === 'Secret' ? this.secrets : undefined;
    return inf?.get(namespace, name);
  }

  podsOn(nodeId: string): KubeObject[] {
    return this.pods.list().filter((p) => nodeNameOf(p) === nodeId);
  }

  podsOnEdge(): KubeObject[] {
    return this.pods.list().filter((p) => this.isEdgeNode(nodeNameOf(p)));
  }

  isEdgeNode(nodeId: string): boolean {
    return this.nodes.get('', nodeId) !== undefined;
  }
}

/** `spec.nodeName` of a pod, '' when unbound. */
export function nodeNameOf(pod: KubeObject): string {
  const spec = pod['spec'] as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' ? spec.nodeName : '';
}
