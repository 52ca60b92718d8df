import { createHash } from 'node:crypto';
import type { Logger } from '../../../core/log.ts';
import type { Message } from '../../../core/message.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import type { CloudInformers, InformerView } from '../../common/informers/informers.ts';
import type { InformerEventType } from '../../common/informers/informer.ts';
import { EDGEMESH_ENABLED, EDGEMESH_LABEL } from '../../common/nodes.ts';
import { objectMessage } from './messages.ts';

const SLICES = { path: '/apis/discovery.k8s.io/v1/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' };
const ENDPOINTS = { path: '/api/v1/endpoints', kind: 'Endpoints', apiVersion: 'v1' };
const SERVICES = { path: '/api/v1/services', kind: 'Service', apiVersion: 'v1' };
/** Annotations the endpoint controllers rewrite without any change an edge acts on. */
const NOISE_ANNOTATIONS = ['endpoints.kubernetes.io/last-change-trigger-time', 'endpoints.kubernetes.io/over-capacity'];

export type MeshDownstreamOptions = {
  informers: CloudInformers;
  log: Logger;
  send: (msg: Message) => void;
  /** Whether the API server serves discovery.k8s.io/v1 (asked once at start); false = Endpoints instead. */
  slicesServed: () => Promise<boolean>;
};

export type MeshDownstreamStats = { unchangedSkipped: number };

type Kind = { type: 'service' | 'endpointslice' | 'endpoints'; informer: InformerView };

export function isMeshNode(node: KubeObject | undefined): boolean {
  const labels = node?.metadata?.['labels'] as Record<string, unknown> | undefined;
  return labels?.[EDGEMESH_LABEL] === EDGEMESH_ENABLED;
}

/**
 * EdgeController's downstream for EdgeMesh: Services and their EndpointSlices (Endpoints on a cluster that
 * serves no slices) go to every edge node that runs EdgeMesh (label {@link EDGEMESH_LABEL}). An update is sent
 * only when what the edge reads changed (not for status or a controller's bookkeeping annotation); a node that
 * turns EdgeMesh on gets everything at once. Delivery is CloudHub's reliable queue and the synccontroller's
 * resync, as for pods: an edge that was away gets what changed meanwhile, never an older version.
 */
export class MeshDownstream {
  readonly #o: MeshDownstreamOptions;
  readonly #services: InformerView;
  #endpoints: Kind | undefined;
  readonly #stats: MeshDownstreamStats = { unchangedSkipped: 0 };

  /** Asks for the Service informer at once, so its handler sees the first list. */
  constructor(o: MeshDownstreamOptions) {
    this.#o = o;
    this.#services = o.informers.informer(SERVICES);
    this.#services.addHandler((t, obj, old) => this.#onObject({ type: 'service', informer: this.#services }, t, obj, old));
  }

  /** Picks slices or Endpoints (one discovery request) and starts following them. */
  async start(): Promise<void> {
    const slices = await this.#o.slicesServed().catch((err: unknown) => {
      this.#o.log.warn({ err }, 'cannot tell whether the cluster serves EndpointSlices; following them anyway');
      return true;
    });
    const informer = this.#o.informers.informer(slices ? SLICES : ENDPOINTS);
    const kind: Kind = { type: slices ? 'endpointslice' : 'endpoints', informer };
    this.#endpoints = kind;
    informer.addHandler((t, obj, old) => this.#onObject(kind, t, obj, old));
    // Another module (the endpointslice controller) may have listed them already: those are new to us.
    for (const obj of informer.list()) this.#onObject(kind, 'add', obj, undefined);
    this.#o.log.info({ endpoints: kind.type }, 'edgemesh downstream started');
  }

  stats(): MeshDownstreamStats {
    return { ...this.#stats };
  }

  /** A node event: one that (re)gains EdgeMesh (or is new with it) gets every Service and its endpoints. */
  onNode(type: InformerEventType, node: KubeObject, old: KubeObject | undefined): void {
    if (type === 'delete' || !isMeshNode(node) || (old !== undefined && isMeshNode(old))) return;
    const name = node.metadata?.name ?? '';
    let n = 0;
    for (const k of this.#kinds()) {
      for (const obj of k.informer.list()) {
        this.#o.send(objectMessage(name, 'insert', k.type, obj));
        n++;
      }
    }
    this.#o.log.info({ node: name, objects: n }, 'edgemesh node: full sync');
  }

  #kinds(): Kind[] {
    const svc: Kind = { type: 'service', informer: this.#services };
    return this.#endpoints === undefined ? [svc] : [svc, this.#endpoints];
  }

  #onObject(kind: Kind, type: InformerEventType, obj: KubeObject, old: KubeObject | undefined): void {
    if (type === 'update' && old !== undefined && meshFingerprint(kind.type, old) === meshFingerprint(kind.type, obj)) {
      this.#stats.unchangedSkipped++;
      return;
    }
    const nodes = this.#o.informers.nodes.list().filter(isMeshNode);
    if (nodes.length === 0) return;
    const op = type === 'delete' ? 'delete' : type === 'add' ? 'insert' : 'update';
    for (const n of nodes) this.#o.send(objectMessage(n.metadata?.name ?? '', op, kind.type, obj));
  }
}

/** What EdgeMesh reads of an object; equal fingerprints = nothing for the edge to do. */
export function meshFingerprint(type: Kind['type'], obj: KubeObject): string {
  const md = obj.metadata ?? {};
  const annotations = { ...((md['annotations'] as Record<string, unknown> | undefined) ?? {}) };
  for (const a of NOISE_ANNOTATIONS) delete annotations[a];
  const body =
    type === 'service'
      ? { spec: obj['spec'] }
      : type === 'endpointslice'
        ? { addressType: obj['addressType'], endpoints: obj['endpoints'], ports: obj['ports'] }
        : { subsets: obj['subsets'] };
  const text = JSON.stringify({ uid: md.uid, labels: md['labels'], annotations, ...body });
  return createHash('sha256').update(text).digest('base64url');
}
