import type { Logger } from '../../../core/log.ts';
import type { Message } from '../../../core/message.ts';
import { newMessage } from '../../../core/message.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import { nodeNameOf, type CloudInformers } from '../../common/informers/informers.ts';
import type { InformerEventType } from '../../common/informers/informer.ts';
import { CloudModules } from '../../common/modules.ts';
import { podChangedForEdge } from '../../common/pod-changes.ts';
import { LocationIndex, type RefKind } from './location.ts';
import { objectMessage } from './messages.ts';
import { MeshDownstream } from './services.ts';

export type DownstreamOptions = {
  informers: CloudInformers;
  log: Logger;
  /** Hands a `node/<n>/...` message to CloudHub. */
  send: (msg: Message) => void;
  /** Whether the API server serves EndpointSlices (else EdgeMesh nodes get Endpoints). */
  slicesServed?: () => Promise<boolean>;
};

export type DownstreamStats = {
  /** Pod updates not sent because only the status (or resourceVersion) changed. */
  podStatusOnlySkipped: number;
  /** Service/endpoint updates not sent because nothing EdgeMesh reads changed. */
  meshUnchangedSkipped: number;
};

/**
 * EdgeController, downstream half: on the shared informers' events, sends each edge node what concerns it.
 * Pods go to the node they are bound to, and an update only when its metadata or spec changed; ConfigMaps and
 * Secrets only to nodes with a pod that references them, and only when they change (the edge queries them when
 * a pod starts).
 */
export class Downstream {
  readonly #o: DownstreamOptions;
  readonly #location = new LocationIndex();
  /** ConfigMap/Secret events of the very first list are not pushed: the edge already queried what it uses. */
  readonly #refsLive = { ConfigMap: false, Secret: false };
  readonly #stats = { podStatusOnlySkipped: 0 };
  readonly #mesh: MeshDownstream;
  #started = false;

  /** Adds its handlers at once, before anything can start the shared informers, so they see the first list. */
  constructor(o: DownstreamOptions) {
    this.#o = o;
    const inf = o.informers;
    this.#mesh = new MeshDownstream({ informers: inf, log: o.log, send: o.send, slicesServed: o.slicesServed ?? (async () => true) });
    inf.nodes.addHandler((t, obj, old) => {
      this.#onNode(t, obj);
      this.#mesh.onNode(t, obj, old);
    });
    inf.pods.addHandler((t, obj, old) => this.#onPod(t, obj, old));
    inf.configmaps.addHandler((t, obj) => this.#onRef('configmap', t, obj));
    inf.secrets.addHandler((t, obj) => this.#onRef('secret', t, obj));
    void inf.configmaps.synced.then(() => (this.#refsLive.ConfigMap = true));
    void inf.secrets.synced.then(() => (this.#refsLive.Secret = true));
  }

  start(): void {
    this.#started = true;
    this.#o.informers.start();
    void this.#mesh.start().catch((err: unknown) => this.#o.log.error({ err }, 'edgemesh downstream failed to start'));
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#o.informers.stop();
  }

  stats(): DownstreamStats {
    return { ...this.#stats, meshUnchangedSkipped: this.#mesh.stats().unchangedSkipped };
  }

  #onNode(type: InformerEventType, node: KubeObject): void {
    const name = node.metadata?.name ?? '';
    if (type === 'add') {
      // Pods bound before the node became an edge node (or before cloudcore saw it): deliver them now.
      for (const pod of this.#o.informers.podsOn(name)) this.#podToNode('add', pod, undefined, name);
    } else if (type === 'delete') {
      // KubeEdge pushes nothing on node deletion; cloudhub just ends the session.
      this.#o.send(
        newMessage({
          source: CloudModules.edgeController,
          group: 'resource',
          operation: 'delete',
          resource: `node/${name}/null/node/${name}`,
          content: null,
        }),
      );
    }
  }

  #onPod(type: InformerEventType, pod: KubeObject, old: KubeObject | undefined): void {
    const node = nodeNameOf(pod);
    if (node === '' || !this.#o.informers.isEdgeNode(node)) {
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
    // A pod that was not on this node before (bound just now) is new to the edge: insert.
    const fresh = type === 'add' || old === undefined || nodeNameOf(old) !== node;
    if (!fresh && !podChangedForEdge(old, pod)) {
      // Status only (most often the edge's own report coming back): the edge has nothing to do with it.
      this.#stats.podStatusOnlySkipped++;
      return;
    }
    this.#location.setPod(pod, node);
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
