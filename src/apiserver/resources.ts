import type { ListTypes } from './apply/fieldset.ts';
import type { CrdVersionInfo } from './crd/crd.ts';
import { RBAC_RESOURCES } from './resources-rbac.ts';
import { BINDING_RESOURCE, WORKLOAD_RESOURCES } from './resources-workloads.ts';

/**
 * The resource table: every served resource is one entry. Handlers, discovery and tables read only this,
 * so adding a resource needs no code elsewhere (unless it wants custom defaults or table columns).
 */
export type ResourceDef = {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  subresources: string[]; // e.g. ['status']
  /** DELETE answers with the object (pods, namespaces) instead of a Success Status. */
  returnDeletedObject?: boolean;
  /** Field selectors accepted besides metadata.name / metadata.namespace. */
  fields?: string[];
  categories?: string[];
  /** Set on the kinds a CustomResourceDefinition defines (one entry per served version); see crd/. */
  crd?: CrdVersionInfo;
  /** Verbs discovery lists, when not all of them (create-only reviews). */
  verbs?: string[];
  /** 'path-segment': names need only be a valid path segment (RBAC kinds), not a DNS subdomain. */
  nameValidation?: 'path-segment';
  /**
   * List types for server-side apply where the strategic-merge key table does not know them (a CRD's
   * x-kubernetes-list-type and -list-map-keys), by the list's field path: `{ 'spec.ports': { type: 'map', keys: ['port'] } }`.
   */
  listTypes?: ListTypes;
  /** Never stored: requests are answered by a handler of their own (access and token reviews). */
  virtual?: boolean;
};

const VERBS_ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

export const RESOURCES: readonly ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    returnDeletedObject: true,
    fields: ['status.phase'],
  },
  {
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
    fields: ['spec.unschedulable'],
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'],
    returnDeletedObject: true,
    fields: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    categories: ['all'],
  },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], subresources: [] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, shortNames: [], subresources: [], fields: ['type'] },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    subresources: ['status'],
    returnDeletedObject: true,
    categories: ['all'],
  },
  { group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'], subresources: [] },
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    subresources: [],
    fields: EVENT_FIELDS,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    subresources: [],
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    shortNames: [],
    subresources: [],
    fields: ['spec.holderIdentity'],
  },
  // KubeEdge's own kinds (ObjectSync, Device, ...) are CustomResourceDefinitions (manifests/crds/), installed by src/kube/crds.ts.
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
    categories: ['api-extensions'],
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    subresources: [],
    fields: ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'reason', 'type', 'reportingController'],
  },
  BINDING_RESOURCE,
  ...RBAC_RESOURCES,
  ...WORKLOAD_RESOURCES,
];

export function verbsOf(r: ResourceDef): string[] {
  return r.verbs ?? VERBS_ALL;
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** Storage key of a resource: group + plural (core v1 and events.k8s.io events are kept apart). */
export function storageKey(r: ResourceDef): string {
  return `${r.group}/${r.plural}`;
}

/** `defs`: a server's live table (engine.resources.all(), CRD kinds included); the built-ins by default. */
export function findResource(group: string, version: string, plural: string, defs: readonly ResourceDef[] = RESOURCES): ResourceDef | undefined {
  return defs.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The definition of objects that say `apiVersion` and `kind` (manifests the server applies to itself). */
export function findKind(apiVersion: string, kind: string, defs: readonly ResourceDef[] = RESOURCES): ResourceDef | undefined {
  return defs.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

export function groupVersions(defs: readonly ResourceDef[] = RESOURCES): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of defs) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}
