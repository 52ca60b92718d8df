import type { KubeObject } from '../../../kube/rest.ts';
import { keyOf } from '../../common/informers/informer.ts';
import { podReferences } from './pod-refs.ts';

export type RefKind = 'configmap' | 'secret';
type PodEntry = { node: string; keys: string[] };

/**
 * Which edge nodes need which ConfigMap/Secret: an object is "located" on a node while at least one pod
 * bound there references it. Kept up to date as pods come and go.
 */
export class LocationIndex {
  readonly #pods = new Map<string, PodEntry>();
  /** `<kind>:<ns>/<name>` → node → number of referencing pods. */
  readonly #objects = new Map<string, Map<string, number>>();

  /** Records `pod` as bound to `node` (replacing what was recorded for it). */
  setPod(pod: KubeObject, node: string): void {
    this.removePod(pod);
    const ns = pod.metadata?.namespace ?? '';
    const refs = podReferences(pod);
    const keys = [...refs.configmaps.map((n) => `configmap:${ns}/${n}`), ...refs.secrets.map((n) => `secret:${ns}/${n}`)];
    this.#pods.set(keyOf(pod), { node, keys });
    for (const k of keys) {
      let nodes = this.#objects.get(k);
      if (nodes === undefined) {
        nodes = new Map();
        this.#objects.set(k, nodes);
      }
      nodes.set(node, (nodes.get(node) ?? 0) + 1);
    }
  }

  removePod(pod: KubeObject): void {
    const pk = keyOf(pod);
    const e = this.#pods.get(pk);
    if (e === undefined) return;
    this.#pods.delete(pk);
    for (const k of e.keys) {
      const nodes = this.#objects.get(k);
      if (nodes === undefined) continue;
      const n = (nodes.get(e.node) ?? 0) - 1;
      if (n > 0) nodes.set(e.node, n);
      else nodes.delete(e.node);
      if (nodes.size === 0) this.#objects.delete(k);
    }
  }

  nodesFor(kind: RefKind, namespace: string, name: string): string[] {
    return [...(this.#objects.get(`${kind}:${namespace}/${name}`)?.keys() ?? [])];
  }
}
