import type { ResourceDef } from './resources.ts';

/**
 * The workload groups (apps/v1, batch/v1, discovery.k8s.io/v1, policy/v1), with the short names, categories
 * and subresources `kubectl api-resources` shows on a 1.32 cluster. The controllers that act on them run in
 * cloudcore and reach these over HTTP like any client.
 */
export const WORKLOAD_RESOURCES: readonly ResourceDef[] = [
  {
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    singular: 'controllerrevision',
    namespaced: true,
    shortNames: [],
    subresources: [],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    subresources: ['status'],
    categories: ['all'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    categories: ['all'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    categories: ['all'],
    fields: ['status.replicas'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    singular: 'statefulset',
    namespaced: true,
    shortNames: ['sts'],
    subresources: ['status', 'scale'],
    categories: ['all'],
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    singular: 'cronjob',
    namespaced: true,
    shortNames: ['cj'],
    subresources: ['status'],
    categories: ['all'],
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    shortNames: [],
    subresources: ['status'],
    categories: ['all'],
    fields: ['status.successful'],
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    singular: 'endpointslice',
    namespaced: true,
    shortNames: [],
    subresources: [],
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: ['status'],
  },
];

/** The legacy `POST /api/v1/namespaces/NS/bindings` (a Binding is never stored: it sets the pod's node). */
export const BINDING_RESOURCE: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Binding',
  plural: 'bindings',
  singular: 'binding',
  namespaced: true,
  shortNames: [],
  subresources: [],
  verbs: ['create'],
};

/** Verbs discovery lists for a subresource, as kube-apiserver lists them. */
export function subresourceVerbs(sub: string): string[] {
  switch (sub) {
    case 'binding':
    case 'eviction':
      return ['create'];
    case 'finalize':
      return ['update'];
    case 'log':
      return ['get'];
    case 'exec':
    case 'attach':
    case 'portforward':
      return ['create', 'get'];
    default:
      return ['get', 'patch', 'update'];
  }
}

/** The kind a subresource's requests and answers carry. */
export function subresourceKind(sub: string, kind: string): { group?: string; version?: string; kind: string } {
  switch (sub) {
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    case 'binding':
      return { kind: 'Binding' };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction' };
    case 'exec':
      return { kind: 'PodExecOptions' };
    case 'attach':
      return { kind: 'PodAttachOptions' };
    case 'portforward':
      return { kind: 'PodPortForwardOptions' };
    default:
      return { kind };
  }
}
