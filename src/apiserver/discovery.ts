import { RESOURCES, apiVersionOf, groupVersions, verbsOf } from './resources.ts';

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

export function apiGroupList(): Record<string, unknown> {
  const groups = groupVersions()
    .filter((gv) => gv.group !== '')
    .map((gv) => {
      const groupVersion = `${gv.group}/${gv.version}`;
      return { name: gv.group, versions: [{ groupVersion, version: gv.version }], preferredVersion: { groupVersion, version: gv.version } };
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** APIResourceList of one group/version, or undefined when we serve no such group/version. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
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
      resources.push({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(defs[0] ?? RESOURCES[0]!), resources };
}
