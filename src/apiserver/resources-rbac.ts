import type { ResourceDef } from './resources.ts';

/**
 * Built-in kinds of RBAC and authentication: the rbac.authorization.k8s.io objects (stored like any
 * other), and the review kinds, which are create-only and never stored (src/apiserver/authn/api.ts answers them).
 */
const rbac = (kind: string, plural: string, namespaced: boolean): ResourceDef => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames: [],
  subresources: [],
  nameValidation: 'path-segment',
});

const review = (group: string, kind: string, plural: string, namespaced = false): ResourceDef => ({
  group,
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames: [],
  subresources: [],
  verbs: ['create'],
  virtual: true,
});

export const RBAC_RESOURCES: readonly ResourceDef[] = [
  rbac('Role', 'roles', true),
  rbac('ClusterRole', 'clusterroles', false),
  rbac('RoleBinding', 'rolebindings', true),
  rbac('ClusterRoleBinding', 'clusterrolebindings', false),
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews'),
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
];
