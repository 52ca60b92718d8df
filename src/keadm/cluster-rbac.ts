/**
 * cloudcore's identity on a real cluster, least privilege: what cloudcore itself does there (no embedded
 * controllers run on a real cluster). EdgeController relays the edge's nodes, pods, leases, events, config
 * maps, secrets and service-account tokens; CloudHub keeps its CA, certificate and token in secrets of
 * `kubeedge`; SyncController keeps ObjectSyncs; DeviceController relays devices; at start cloudcore brings
 * KubeEdge's CRDs up to date. manifests/rbac/cloudcore-cluster.yaml and the Helm chart hold the same objects
 * (unit tests keep them equal).
 */
import type { KubeObject } from '../kube/rest.ts';

export const CLOUDCORE_NAMESPACE = 'kubeedge';
export const CLOUDCORE_NAME = 'cloudcore';
const LABELS = { 'k8s-app': 'kubeedge', kubeedge: 'cloudcore' };

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

const READ = ['get', 'list', 'watch'];
export const CLOUDCORE_CLUSTER_RULES: Rule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: [...READ, 'create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['nodes/status', 'pods/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: [...READ, 'update', 'patch', 'delete'] },
  // What pods on the edge mount or look up, fetched on the edge's request.
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'endpoints', 'persistentvolumes', 'persistentvolumeclaims'], verbs: READ },
  // EdgeMesh nodes are sent the Services' EndpointSlices.
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: [...READ, 'create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'update', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...READ, 'create', 'update', 'patch'] },
  {
    apiGroups: ['reliablesyncs.kubeedge.io'],
    resources: ['objectsyncs', 'objectsyncs/status', 'clusterobjectsyncs', 'clusterobjectsyncs/status'],
    verbs: [...READ, 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: ['devices.kubeedge.io'], resources: ['devices', 'devicemodels'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: ['devices.kubeedge.io'], resources: ['devices/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'create', 'update'] },
];

/** Writing secrets only in cloudcore's own namespace: CloudHub's CA, certificate and token. */
export const CLOUDCORE_NAMESPACE_RULES: Rule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'update', 'patch'] }];

const subject = [{ kind: 'ServiceAccount', name: CLOUDCORE_NAME, namespace: CLOUDCORE_NAMESPACE }];

/** Namespace, ServiceAccount, ClusterRole + binding, Role + binding in `kubeedge`, in the order they apply. */
export function cloudcoreClusterRbac(): KubeObject[] {
  const md = (namespaced: boolean) => ({ name: CLOUDCORE_NAME, ...(namespaced ? { namespace: CLOUDCORE_NAMESPACE } : {}), labels: { ...LABELS } });
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CLOUDCORE_NAMESPACE, labels: { ...LABELS } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: md(true) },
    { apiVersion: rbac, kind: 'ClusterRole', metadata: md(false), rules: structuredClone(CLOUDCORE_CLUSTER_RULES) },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: md(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLOUDCORE_NAME },
      subjects: structuredClone(subject),
    },
    { apiVersion: rbac, kind: 'Role', metadata: md(true), rules: structuredClone(CLOUDCORE_NAMESPACE_RULES) },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: md(true),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CLOUDCORE_NAME },
      subjects: structuredClone(subject),
    },
  ];
}
