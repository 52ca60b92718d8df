import type { KubeRest } from '../../../kube/rest.ts';

/** One served resource, as API discovery lists it. */
export type ServedResource = {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
};

type ApiResourceList = { resources?: Array<{ name?: string; kind?: string; namespaced?: boolean; verbs?: string[] }> };
type ApiGroupList = { groups?: Array<{ versions?: Array<{ groupVersion?: string }>; preferredVersion?: { groupVersion?: string } }> };

/**
 * What the API server serves, read through discovery (`/api/v1`, `/apis`, `/apis/<group>/<version>`), as
 * Kubernetes' garbage collector and namespace controller find the kinds they act on: custom resources included,
 * no fixed list. Answers are cached for `ttlMs`, so a CRD added meanwhile is seen on a later call.
 */
export class Discovery {
  readonly #kube: KubeRest;
  readonly #ttlMs: number;
  #cache: { at: number; resources: ServedResource[] } | undefined;

  constructor(kube: KubeRest, ttlMs = 30_000) {
    this.#kube = kube;
    this.#ttlMs = ttlMs;
  }

  /** Every top-level resource (no subresources) of every served group version. */
  async resources(fresh = false): Promise<ServedResource[]> {
    if (!fresh && this.#cache !== undefined && Date.now() - this.#cache.at < this.#ttlMs) return this.#cache.resources;
    const versions = ['v1'];
    const groups = await this.#kube.get<ApiGroupList>('/apis');
    for (const g of groups.groups ?? []) for (const v of g.versions ?? []) if (v.groupVersion !== undefined) versions.push(v.groupVersion);
    const out: ServedResource[] = [];
    for (const gv of versions) {
      let list: ApiResourceList;
      try {
        list = await this.#kube.get<ApiResourceList>(gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
      } catch {
        continue; // a group version going away meanwhile (CRD removed) is no error
      }
      for (const r of list.resources ?? []) {
        if (r.name === undefined || r.kind === undefined || r.name.includes('/')) continue;
        out.push({ apiVersion: gv, kind: r.kind, plural: r.name, namespaced: r.namespaced === true, verbs: r.verbs ?? [] });
      }
    }
    this.#cache = { at: Date.now(), resources: out };
    return out;
  }

  /** The resource of `kind` in `apiVersion`, looked up again once when it is not (yet) known. */
  async find(apiVersion: string, kind: string): Promise<ServedResource | undefined> {
    const match = (rs: ServedResource[]) => rs.find((r) => r.apiVersion === apiVersion && r.kind === kind);
    return match(await this.resources()) ?? match(await this.resources(true));
  }
}
