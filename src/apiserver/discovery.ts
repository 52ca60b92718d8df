import { compareKubeVersions } from './crd/crd.ts';
import { RESOURCES, apiVersionOf, groupVersions, verbsOf, type ResourceDef } from './resources.ts';
import { subresourceKind, subresourceVerbs } from './resources-workloads.ts';

export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.10',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

const groupLists = new WeakMap<readonly ResourceDef[], Record<string, unknown>>();

/**
 * Every group with all its versions, the preferred one (by Kubernetes version priority) first. Built once per
 * resource table (a new array after every CRD change), as /apis and each /apis/<group> read it.
 */
export function apiGroupList(defs: readonly ResourceDef[] = RESOURCES): Record<string, unknown> {
  const known = groupLists.get(defs);
  if (known !== undefined) return known;
  const byGroup = new Map<string, string[]>();
  for (const gv of groupVersions(defs)) {
    if (gv.group === '') continue;
    const list = byGroup.get(gv.group) ?? [];
    list.push(gv.version);
    byGroup.set(gv.group, list);
  }
  const groups = [...byGroup].map(([name, versions]) => {
    const vs = versions.sort(compareKubeVersions).map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { name, versions: vs, preferredVersion: vs[0] };
  });
  const list = { kind: 'APIGroupList', apiVersion: 'v1', groups };
  groupLists.set(defs, list);
  return list;
}

/** APIResourceList of one group/version, or undefined when we serve no such group/version. */
export function apiResourceList(group: string, version: string, all: readonly ResourceDef[] = RESOURCES): Record<string, unknown> | undefined {
  const defs = all.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of defs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: verbsOf(r),
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories !== undefined ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      resources.push({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, ...subresourceKind(s, r.kind), verbs: subresourceVerbs(s) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(defs[0] ?? RESOURCES[0]!), resources };
}
