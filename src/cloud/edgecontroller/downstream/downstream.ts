import type { Logger } from '../../../core/log.ts';
import type { Message } from '../../../core/message.ts';
import { newMessage } from '../../../core/message.ts';
import type { k8s } from '../../../kube/client.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { EDGE_ROLE_LABEL } from '../upstream/node.ts';
import { Informer, type InformerEventType } from './informer.ts';
import { LocationIndex, type RefKind } from './location.ts';
import { EDGECONTROLLER_SOURCE, objectMessage } from './messages.ts';

/** What the synccontroller needs to know about the live objects and where they belong. */
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

export type DownstreamOptions = {
  kc: k8s.KubeConfig;
  kube: KubeRest;
  log: Logger;
  /** Hands a `node/<n>/...` message to CloudHub. */
  send: (msg: Message) => void;
  backoff?: { initialMs: number; maxMs: number };
};

/**
 * EdgeController, downstream half: watches edge nodes, pods, configmaps and secrets, and sends each edge node
 * what concerns it. Pods go to the node they are bound to; ConfigMaps/Secrets only to nodes with a pod that
 * references them, and only when they change (the edge queries them when a pod starts).
 */
export class Downstream implements LiveObjects {
  readonly #o: DownstreamOptions;
  readonly #location = new LocationIndex();
  readonly #nodes: Informer;
  readonly #pods: Informer;
  readonly #configmaps: Informer;
  readonly #secrets: Informer;
  /** ConfigMap/Secret events of the very first list are not pushed: the edge already queried what it uses. */
  #refsLive = { ConfigMap: false, Secret: false };
  #ready: Promise<void> | undefined;

  constructor(o: DownstreamOptions) {
    this.#o = o;
    const base = { kc: o.kc, kube: o.kube, log: o.log, ...(o.backoff === undefined ? {} : { backoff: o.backoff }) };
    this.#nodes = new Informer({
      ...base,
      path: '/api/v1/nodes',
      kind: 'Node',
      apiVersion: 'v1',
      labelSelector: EDGE_ROLE_LABEL,
      onEvent: (t, obj, old) => this.#onNode(t, obj, old),
    });
    this.#pods = new Informer({ ...base, path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1', onEvent: (t, obj, old) => this.#onPod(t, obj, old) });
    this.#configmaps = new Informer({
      ...base,
      path: '/api/v1/configmaps',
      kind: 'ConfigMap',
      apiVersion: 'v1',
      onEvent: (t, obj) => this.#onRef('configmap', t, obj),
    });
    this.#secrets = new Informer({ ...base, path: '/api/v1/secrets', kind: 'Secret', apiVersion: 'v1', onEvent: (t, obj) => this.#onRef('secret', t, obj) });
  }

  /** Nodes first, so the first pod list already knows which nodes are edge nodes. */
  start(): void {
    this.#nodes.start();
    this.#ready = (async () => {
      await this.#nodes.synced;
      this.#pods.start();
      await this.#pods.synced;
      this.#configmaps.start();
      this.#secrets.start();
      await Promise.all([
        this.#configmaps.synced.then(() => (this.#refsLive.ConfigMap = true)),
        this.#secrets.synced.then(() => (this.#refsLive.Secret = true)),
      ]);
    })();
  }

  stop(): void {
    for (const i of [this.#nodes, this.#pods, this.#configmaps, this.#secrets]) i.stop();
  }

  ready(): Promise<void> {
    return this.#ready ?? Promise.reject(new Error('downstream not started'));
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    const inf = kind === 'Pod' ? this.#pods : kind === 'ConfigMap' ? this.#configmaps : kind === 'Secret' ? this.#secrets : undefined;
    return inf?.get(namespace, name);
  }

  podsOn(nodeId: string): KubeObject[] {
    return this.#pods.list().filter((p) => nodeNameOf(p) === nodeId);
  }

  podsOnEdge(): KubeObject[] {
    return this.#pods.list().filter((p) => this.isEdgeNode(nodeNameOf(p)));
  }

  isEdgeNode(nodeId: string): boolean {
    return this.#nodes.get('', nodeId) !== undefined;
  }

  #onNode(type: InformerEventType, node: KubeObject, _old: KubeObject | undefined): void {
    const name = node.metadata?.name ?? '';
    if (type === 'add') {
      // Pods bound before the node became an edge node (or before cloudcore saw it): deliver them now.
      for (const pod of this.podsOn(name)) this.#podToNode('add', pod, undefined, name);
    } else if (type === 'delete') {
      // KubeEdge pushes nothing on node deletion; cloudhub just ends the session.
      this.#o.send(
        newMessage({ source: EDGECONTROLLER_SOURCE, group: 'resource', operation: 'delete', resource: `node/${name}/null/node/${name}`, content: null }),
      );
    }
  }

  #onPod(type: InformerEventType, pod: KubeObject, old: KubeObject | undefined): void {
    const node = nodeNameOf(pod);
    if (node === '' || !this.isEdgeNode(node)) {
      if (type === 'delete') this.#location.removePod(pod);
      return;
    }
    this.#podToNode(type, pod, old, node);
  }

  #podToNode(type: InformerEventType, pod: KubeObject, old: KubeObject | undefined, node: string): void {
    if (type === 'delete') {
      this.#location.removePod(pod);
      this.#o.send(objectMessage(node, 'delete', 'pod', pod));
      return;
    }
    this.#location.setPod(pod, node);
    // A pod that was not on this node before (bound just now) is new to the edge: insert.
    const fresh = type === 'add' || old === undefined || nodeNameOf(old) !== node;
    this.#o.send(objectMessage(node, fresh ? 'insert' : 'update', 'pod', pod));
  }

  #onRef(kind: RefKind, type: InformerEventType, obj: KubeObject): void {
    if (!this.#refsLive[kind === 'configmap' ? 'ConfigMap' : 'Secret']) return;
    const nodes = this.#location.nodesFor(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    if (nodes.length === 0) return;
    // KubeEdge: configmap add = insert, secret add = update, changes = update, deletes = delete.
    const op = type === 'delete' ? 'delete' : type === 'add' && kind === 'configmap' ? 'insert' : 'update';
    for (const n of nodes) this.#o.send(objectMessage(n, op, kind, obj));
  }
}

function nodeNameOf(pod: KubeObject): string {
  const spec = pod['spec'] as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' ? spec.nodeName : '';
}
