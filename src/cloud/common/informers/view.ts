import type { KubeObject } from '../../../kube/rest.ts';
import type { Informer, InformerHandler } from './informer.ts';

/** What a module reads from an informer: its cache and its events. */
export type InformerView = {
  readonly synced: Promise<void>;
  addHandler(h: InformerHandler): void;
  get(namespace: string, name: string): KubeObject | undefined;
  list(): KubeObject[];
};

/**
 * The objects of `inner` that satisfy `keep`, as an informer of their own: an object that starts to satisfy it
 * is an `add`, one that stops is a `delete` (a node that gains or loses the edge role label).
 */
export function filteredView(inner: Informer, keep: (o: KubeObject) => boolean): InformerView {
  return {
    synced: inner.synced,
    addHandler(h) {
      inner.addHandler((type, obj, old) => {
        const now = type !== 'delete' && keep(obj);
        const before = old !== undefined && keep(old);
        if (type === 'delete') {
          if (before || keep(obj)) h('delete', obj, old);
        } else if (now && (type === 'add' || !before)) h('add', obj, undefined);
        else if (now) h('update', obj, old);
        else if (before) h('delete', old, old);
      });
    },
    get(namespace, name) {
      const o = inner.get(namespace, name);
      return o !== undefined && keep(o) ? o : undefined;
    },
    list() {
      return inner.list().filter(keep);
    },
  };
}
