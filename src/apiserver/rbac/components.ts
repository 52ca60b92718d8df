import type { Engine } from '../engine.ts';
import { findKind } from '../resources.ts';
import type { KObj } from '../store.ts';

/**
 * cloudcore's least-privilege identity: ServiceAccount kubeedge/cloudcore bound to ClusterRole cloudcore,
 * the rules KubeEdge's Helm chart grants cloudcore on a real cluster (manifests/rbac/cloudcore.yaml ships the
 * same objects for `kubectl apply`; a unit test keeps the two equal). The embedded server creates them at
 * start and writes a kubeconfig with a token of that ServiceAccount next to the admin one.
 */
export const CLOUDCORE_NAMESPACE = 'kubeedge';
export const CLOUDCORE_SERVICE_ACCOUNT = 'cloudcore';

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const CLOUDCORE_RULES: KObj[] = [
  {
    apiGroups: [''],
    resources: [
      'nodes',
      'nodes/status',
      'serviceaccounts/token',
      'configmaps',
      'pods',
      'pods/status',
      'secrets',
      'endpoints',
      'services',
      'persistentvolumes',
      'persistentvolumeclaims',
    ],
    verbs: ['get', 'list', 'watch', 'create', 'update'],
  },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['nodes', 'nodes/status', 'pods/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['delete'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
  { apiGroups: ['devices.kubeedge.io'], resources: ['devices', 'devicemodels', 'devices/status', 'devicemodels/status'], verbs: ALL },
  {
    apiGroups: ['reliablesyncs.kubeedge.io'],
    resources: ['objectsyncs', 'clusterobjectsyncs', 'objectsyncs/status', 'clusterobjectsyncs/status'],
    verbs: ALL,
  },
  { apiGroups: ['rules.kubeedge.io'], resources: ['rules', 'ruleendpoints', 'rules/status', 'ruleendpoints/status'], verbs: ALL },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ALL },
  { apiGroups: ['networking.istio.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: ['operations.kubeedge.io'],
    resources: ['nodeupgradejobs', 'nodeupgradejobs/status', 'imageprepulljobs', 'imageprepulljobs/status'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  // requireAuthorization feature: serviceaccount access policies.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['list', 'watch'] },
  {
    apiGroups: ['policy.kubeedge.io'],
    resources: ['serviceaccountaccesses', 'serviceaccountaccesses/status'],
    verbs: ['list', 'watch', 'create', 'update', 'delete'],
  },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'clusterrolebindings', 'rolebindings', 'clusterroles'], verbs: ['list', 'watch'] },
  // Embedded control plane: DaemonSet, StatefulSet, Job, CronJob and ttl-after-finished controllers.
  {
    apiGroups: ['apps'],
    resources: ['daemonsets', 'daemonsets/status', 'statefulsets', 'statefulsets/status', 'controllerrevisions'],
    verbs: ALL,
  },
  { apiGroups: ['batch'], resources: ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status'], verbs: ALL },
  { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
];

const LABELS = { 'k8s-app': 'kubeedge', kubeedge: 'cloudcore' };

const FULL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * What cloudcore's embedded controllers (issue 10: workloads, scheduler, garbage collector, namespaces, service
 * accounts, endpoints) need beyond the rules above; a ClusterRole of its own (cloudcore:controllers), so a
 * cluster that runs its own controllers can leave it out, and an existing data directory gets it at the next start.
 */
export const CONTROLLER_RULES: KObj[] = [
  {
    apiGroups: ['apps'],
    resources: [
      'deployments',
      'deployments/status',
      'deployments/scale',
      'replicasets',
      'replicasets/status',
      'replicasets/scale',
      'daemonsets',
      'daemonsets/status',
      'statefulsets',
      'statefulsets/status',
      'statefulsets/scale',
      'controllerrevisions',
    ],
    verbs: FULL,
  },
  { apiGroups: ['batch'], resources: ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status'], verbs: FULL },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: FULL },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'], verbs: FULL },
  { apiGroups: [''], resources: ['pods', 'endpoints', 'serviceaccounts'], verbs: FULL },
  { apiGroups: [''], resources: ['pods/binding', 'pods/eviction', 'bindings', 'serviceaccounts/token'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods/status', 'nodes', 'nodes/status', 'namespaces/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['namespaces/finalize'], verbs: ['update'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  // The garbage collector and the namespace controller read and delete every kind (CRDs included), as
  // kube-controller-manager's do; they write (orphaning dependents, dropping their finalizers) only outside
  // rbac.authorization.k8s.io, since this server has no RBAC escalation check to stop a role editing itself.
  { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] },
  {
    apiGroups: [
      '',
      'apps',
      'batch',
      'discovery.k8s.io',
      'policy',
      'coordination.k8s.io',
      'events.k8s.io',
      'apiextensions.k8s.io',
      'devices.kubeedge.io',
      'reliablesyncs.kubeedge.io',
      'rules.kubeedge.io',
      'operations.kubeedge.io',
      'apps.kubeedge.io',
      'policy.kubeedge.io',
    ],
    resources: ['*'],
    verbs: ['patch', 'update'],
  },
];

const CONTROLLERS_ROLE = 'cloudcore:controllers';

/** The objects of manifests/rbac/cloudcore.yaml, in apply order. */
export function cloudcoreObjects(): KObj[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CLOUDCORE_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CLOUDCORE_SERVICE_ACCOUNT, namespace: CLOUDCORE_NAMESPACE, labels: LABELS } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cloudcore', labels: LABELS }, rules: CLOUDCORE_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'cloudcore', labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cloudcore' },
      subjects: [{ kind: 'ServiceAccount', name: CLOUDCORE_SERVICE_ACCOUNT, namespace: CLOUDCORE_NAMESPACE }],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CONTROLLERS_ROLE, labels: LABELS }, rules: CONTROLLER_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: CONTROLLERS_ROLE, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLERS_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: CLOUDCORE_SERVICE_ACCOUNT, namespace: CLOUDCORE_NAMESPACE }],
    },
  ];
}

/** Creates what is missing (an existing object, possibly edited by the user, is kept); returns the ServiceAccount. */
export function bootstrapCloudcoreIdentity(engine: Engine): KObj | undefined {
  let sa: KObj | undefined;
  for (const o of cloudcoreObjects()) {
    const def = findKind(o['apiVersion'], o['kind']);
    if (def === undefined) continue;
    const ns = def.namespaced ? String(o['metadata']['namespace']) : undefined;
    const cur = engine.find(def, ns, String(o['metadata']['name'])) ?? engine.create(def, ns, structuredClone(o));
    if (o['kind'] === 'ServiceAccount') sa = cur;
  }
  return sa;
}
