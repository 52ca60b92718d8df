import type { Logger } from '../../../core/log.ts';
import type { k8s } from '../../../kube/client.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { EDGE_ROLE_LABEL } from '../nodes.ts';
import { Informer, type InformerHandler } from './informer.ts';
import { filteredView, type InformerView } from './view.ts';

/** Read access to the cached cluster objects, for modules that only read them (the synccontroller). */
export type LiveObjects = {
  /** Resolves once nodes, pods, configmaps and secrets have been listed. */
  ready(): Promise<void>;
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Whether objects of `kind` are cached and listed: only then does an absent one mean it is gone. */
  knows(kind: string): boolean;
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
  /**
   * List every node, not only edge nodes: the embedded controllers (scheduler, DaemonSets) place pods on any
   * node. Off with a real cluster, where listing all nodes would cost memory for nothing.
   */
  allNodes?: boolean;
};

/** One collection to list and watch: `/apis/apps/v1/deployments` (all namespaces), its kind and apiVersion. */
export type InformerSpec = { path: string; kind: string; apiVersion: string };

/**
 * cloudcore's shared informers (KubeEdge's `cloud/pkg/common/informers`): one list+watch per collection for
 * the whole process, whatever number of modules read it. Modules add their event handlers when they are
 * built; SyncController only reads the caches. Started by the first module that needs them and stopped with
 * the last; nodes are listed first, so the first pod list already knows which nodes are edge nodes.
 */
export class CloudInformers implements LiveObjects {
  /** Edge nodes only (nodes that gain or lose the edge role label are added or deleted here). */
  readonly nodes: InformerView;
  /** Every node when `allNodes`, else the same edge nodes as {@link nodes}. */
  readonly allNodes: InformerView;
  readonly pods: Informer;
  readonly configmaps: Informer;
  readonly secrets: Informer;
  readonly #nodeInformer: Informer;
  readonly #extra = new Map<string, Informer>();
  readonly #base: Omit<ConstructorParameters<typeof Informer>[0], 'path' | 'kind' | 'apiVersion'>;
  #users = 0;
  #started = false;
  #resolveReady: () => void = () => {};
  readonly #ready: Promise<void>;

  constructor(o: CloudInformersOptions) {
    this.#base = { kc: o.kc, kube: o.kube, log: o.log, ...(o.backoff === undefined ? {} : { backoff: o.backoff }) };
    const base = this.#base;
    this.#nodeInformer = new Informer({
      ...base,
      path: '/api/v1/nodes',
      kind: 'Node',
      apiVersion: 'v1',
      ...(o.allNodes === true ? {} : { labelSelector: EDGE_ROLE_LABEL }),
    });
    this.allNodes = this.#nodeInformer;
    this.nodes = o.allNodes === true ? filteredView(this.#nodeInformer, isEdgeNodeObject) : this.#nodeInformer;
    this.pods = new Informer({ ...base, path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1' });
    this.configmaps = new Informer({ ...base, path: '/api/v1/configmaps', kind: 'ConfigMap', apiVersion: 'v1' });
    this.secrets = new Informer({ ...base, path: '/api/v1/secrets', kind: 'Secret', apiVersion: 'v1' });
    this.#ready = new Promise((r) => (this.#resolveReady = r));
  }

  /**
   * The shared informer of any other collection, created on first use. Ask for it (and add handlers) when the
   * module is built, before anything starts the informers, so the handlers see the first list; one asked for
   * later starts at once.
   */
  informer(spec: InformerSpec): Informer {
    const known = this.#known(spec.path);
    if (known !== undefined) return known;
    let inf = this.#extra.get(spec.path);
    if (inf === undefined) {
      inf = new Informer({ ...this.#base, ...spec });
      this.#extra.set(spec.path, inf);
      if (this.#started) inf.start();
    }
    return inf;
  }

  /** Counted: the first call starts the watches, later ones only register one more user. */
  start(): void {
    this.#users++;
    if (this.#started) return;
    this.#started = true;
    this.#nodeInformer.start();
    void (async () => {
      await this.#nodeInformer.synced;
      this.pods.start();
      await this.pods.synced;
      this.configmaps.start();
      this.secrets.start();
      for (const i of this.#extra.values()) i.start();
      await Promise.all([this.configmaps.synced, this.secrets.synced]);
      this.#resolveReady();
    })();
  }

  /** Counted like {@link start}: the watches stop when the last user stops. */
  stop(): void {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users > 0) return;
    for (const i of [this.#nodeInformer, this.pods, this.configmaps, this.secrets, ...this.#extra.values()]) i.stop();
  }

  /** Resolves once nodes, pods, configmaps and secrets have been listed (or the informers were stopped). */
  ready(): Promise<void> {
    return this.#ready;
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.#ofKind(kind)?.get(namespace, name);
  }

  knows(kind: string): boolean {
    return this.#ofKind(kind)?.listed === true;
  }

  #ofKind(kind: string): Informer | undefined {
    if (kind === 'Pod') return this.pods;
    if (kind === 'ConfigMap') return this.configmaps;
    if (kind === 'Secret') return this.secrets;
    for (const i of this.#extra.values()) if (i.kind === kind) return i;
    return undefined;
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

  #known(path: string): Informer | undefined {
    for (const i of [this.#nodeInformer, this.pods, this.configmaps, this.secrets]) if (i.path === path) return i;
    return undefined;
  }
}

export type { InformerHandler, InformerView };

function isEdgeNodeObject(node: KubeObject): boolean {
  const labels = node.metadata?.['labels'] as Record<string, unknown> | undefined;
  return labels !== undefined && EDGE_ROLE_LABEL in labels;
}

/** `spec.nodeName` of a pod, '' when unbound. */
export function nodeNameOf(pod: KubeObject): string {
  const spec = pod['spec'] as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' ? spec.nodeName : '';
}
