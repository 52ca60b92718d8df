import type { Engine } from '../engine.ts';
import { findResource } from '../resources.ts';
import type { KObj } from '../store.ts';

/**
 * The default roles every cluster has (kube-apiserver's bootstrap policy, the part that matters here):
 * cluster-admin for system:masters, discovery and self-review for every authenticated user, health and
 * version for everyone. Created once; edits made to them afterwards are kept.
 */
const META = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } };

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];

const CLUSTER_ROLES: KObj[] = [
  {
    metadata: { name: 'cluster-admin', ...META },
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
  },
  { metadata: { name: 'system:discovery', ...META }, rules: [{ nonResourceURLs: DISCOVERY_URLS, verbs: ['get'] }] },
  {
    metadata: { name: 'system:basic-user', ...META },
    rules: [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ],
  },
  {
    metadata: { name: 'system:public-info-viewer', ...META },
    rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  },
];

const group = (name: string) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name });

const CLUSTER_ROLE_BINDINGS: KObj[] = [
  { metadata: { name: 'cluster-admin', ...META }, roleRef: ref('cluster-admin'), subjects: [group('system:masters')] },
  { metadata: { name: 'system:discovery', ...META }, roleRef: ref('system:discovery'), subjects: [group('system:authenticated')] },
  { metadata: { name: 'system:basic-user', ...META }, roleRef: ref('system:basic-user'), subjects: [group('system:authenticated')] },
  {
    metadata: { name: 'system:public-info-viewer', ...META },
    roleRef: ref('system:public-info-viewer'),
    subjects: [group('system:authenticated'), group('system:unauthenticated')],
  },
];

function ref(name: string): KObj {
  return { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name };
}

export function bootstrapRbac(engine: Engine): void {
  const cr = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles');
  const crb = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
  if (cr === undefined || crb === undefined) return;
  for (const [def, objs] of [
    [cr, CLUSTER_ROLES],
    [crb, CLUSTER_ROLE_BINDINGS],
  ] as const) {
    for (const o of objs) {
      const name = String(o['metadata']['name']);
      if (engine.find(def, undefined, name) === undefined) engine.create(def, undefined, structuredClone(o));
    }
  }
}
