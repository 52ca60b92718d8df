import { apiVersionOf, type ResourceDef } from '../resources.ts';
import type { KObj, StoreEvent } from '../store.ts';

/**
 * One server's resource table: the built-in kinds plus the kinds of its CustomResourceDefinitions, which come
 * and go at run time. `all()` is a new array after every change and the same one until then, so discovery and
 * OpenAPI keep what they build from it per array.
 */
export class ResourceRegistry {
  readonly #builtins: readonly ResourceDef[];
  readonly #crds = new Map<string, ResourceDef[]>();
  #all: readonly ResourceDef[];

  constructor(builtins: readonly ResourceDef[]) {
    this.#builtins = builtins;
    this.#all = builtins;
  }

  all(): readonly ResourceDef[] {
    return this.#all;
  }

  /** Replaces what CRD `name` serves (an empty list serves nothing). */
  setCrd(name: string, defs: ResourceDef[]): void {
    if (defs.length === 0) this.#crds.delete(name);
    else this.#crds.set(name, defs);
    this.#rebuild();
  }

  removeCrd(name: string): void {
    if (this.#crds.delete(name)) this.#rebuild();
  }

  #rebuild(): void {
    this.#all = [...this.#builtins, ...[...this.#crds.values()].flat()];
  }
}

/**
 * An object as one served version shows it. The versions of a CRD share one storage key and their schemas
 * differ only in what each version declares (conversion strategy None), so converting is setting apiVersion.
 */
export function presentAs(def: ResourceDef, o: KObj): KObj {
  if (def.crd === undefined) return o;
  const want = apiVersionOf(def);
  return o['apiVersion'] === want ? o : { ...o, apiVersion: want };
}

/** A watch of a CRD kind ends when that CRD is deleted, as on a real server. */
export function endsWithCrd(def: ResourceDef, e: StoreEvent): boolean {
  return (
    def.crd !== undefined &&
    e.type === 'DELETED' &&
    e.key === 'apiextensions.k8s.io/customresourcedefinitions' &&
    e.object['metadata']?.['name'] === def.crd.crdName
  );
}
