import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logger } from '../../core/log.ts';
import { Store, type KObj } from '../store.ts';
import { authorize, forbiddenMessage, type Attributes, type UserInfo } from './authorizer.ts';

const G = 'rbac.authorization.k8s.io';

function store(): Store {
  const log = logger('rbac-test');
  log.level = 'silent';
  const s = new Store(':memory:', log);
  const put = (plural: string, ns: string, o: KObj) => s.put(`${G}/${plural}`, ns, o, 'ADDED');
  put('clusterroles', '', { metadata: { name: 'aggregate' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'yes' } }] }, rules: [] });
  put('clusterroles', '', {
    metadata: { name: 'node-status', labels: { agg: 'yes' } },
    rules: [{ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] }],
  });
  put('clusterroles', '', { metadata: { name: 'health' }, rules: [{ nonResourceURLs: ['/healthz', '/metrics/*'], verbs: ['get'] }] });
  put('clusterrolebindings', '', {
    metadata: { name: 'ops' },
    roleRef: { kind: 'ClusterRole', name: 'aggregate' },
    subjects: [{ kind: 'Group', name: 'ops' }],
  });
  put('clusterrolebindings', '', { metadata: { name: 'health' }, roleRef: { kind: 'ClusterRole', name: 'health' }, subjects: [{ kind: 'User', name: 'mon' }] });
  put('roles', 'apps', {
    metadata: { name: 'one-cm' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get', 'update'] }],
  });
  put('rolebindings', 'apps', {
    metadata: { name: 'sa-cm' },
    roleRef: { kind: 'Role', name: 'one-cm' },
    subjects: [{ kind: 'ServiceAccount', name: 'app' }],
  });
  put('rolebindings', 'apps', { metadata: { name: 'ops-agg' }, roleRef: { kind: 'ClusterRole', name: 'health' }, subjects: [{ kind: 'Group', name: 'ops' }] });
  return s;
}

function res(verb: string, resource: string, o: Partial<Attributes> = {}): Attributes {
  return { verb, resourceRequest: true, apiGroup: '', resource, subresource: '', namespace: '', name: '', path: '', ...o };
}

const sa: UserInfo = { name: 'system:serviceaccount:apps:app', groups: ['system:serviceaccounts', 'system:authenticated'] };

test('system:masters may do anything; a user without bindings nothing', () => {
  const s = store();
  assert.equal(authorize(s, { name: 'root', groups: ['system:masters'] }, res('delete', 'nodes')).allowed, true);
  assert.equal(authorize(s, { name: 'nobody', groups: ['system:authenticated'] }, res('get', 'pods', { namespace: 'default' })).allowed, false);
  s.close();
});

test('RoleBinding to a ServiceAccount: only its namespace, only the named object, only the verbs granted', () => {
  const s = store();
  assert.equal(authorize(s, sa, res('get', 'configmaps', { namespace: 'apps', name: 'settings' })).allowed, true);
  assert.match(authorize(s, sa, res('update', 'configmaps', { namespace: 'apps', name: 'settings' })).reason, /RoleBinding "sa-cm\/apps" of Role "one-cm"/);
  assert.equal(authorize(s, sa, res('get', 'configmaps', { namespace: 'apps', name: 'other' })).allowed, false);
  assert.equal(authorize(s, sa, res('list', 'configmaps', { namespace: 'apps' })).allowed, false);
  assert.equal(authorize(s, sa, res('get', 'configmaps', { namespace: 'default', name: 'settings' })).allowed, false);
  s.close();
});

test('aggregated ClusterRoles, subresources and non-resource URLs with wildcards', () => {
  const s = store();
  const ops: UserInfo = { name: 'ann', groups: ['ops'] };
  assert.equal(authorize(s, ops, res('patch', 'nodes', { subresource: 'status', name: 'n1' })).allowed, true);
  assert.equal(authorize(s, ops, res('patch', 'nodes', { name: 'n1' })).allowed, false);
  const mon: UserInfo = { name: 'mon', groups: [] };
  const url = (path: string): Attributes => ({ ...res('get', ''), resourceRequest: false, path });
  assert.equal(authorize(s, mon, url('/healthz')).allowed, true);
  assert.equal(authorize(s, mon, url('/metrics/cadvisor')).allowed, true);
  assert.equal(authorize(s, mon, url('/api')).allowed, false);
  // A RoleBinding of a ClusterRole with only non-resource rules grants nothing in the namespace.
  assert.equal(authorize(s, ops, res('get', 'pods', { namespace: 'apps' })).allowed, false);
  s.close();
});

test('forbidden messages read as kube-apiserver writes them', () => {
  assert.equal(
    forbiddenMessage(sa, res('list', 'pods', { namespace: 'apps' })),
    'pods is forbidden: User "system:serviceaccount:apps:app" cannot list resource "pods" in API group "" in the namespace "apps"',
  );
  assert.equal(
    forbiddenMessage({ name: 'x', groups: [] }, res('get', 'leases', { apiGroup: 'coordination.k8s.io', name: 'l1' })),
    'leases.coordination.k8s.io "l1" is forbidden: User "x" cannot get resource "leases" in API group "coordination.k8s.io" at the cluster scope',
  );
});

test('a binding or role written or removed takes effect on the next request', () => {
  const s = store();
  const dev: UserInfo = { name: 'dev', groups: ['system:authenticated'] };
  const listPods = res('list', 'pods', { namespace: 'apps' });
  assert.equal(authorize(s, dev, listPods).allowed, false);
  const binding = s.put(
    `${G}/rolebindings`,
    'apps',
    {
      metadata: { name: 'dev-pods' },
      roleRef: { kind: 'Role', name: 'pods' },
      subjects: [{ kind: 'User', name: 'dev' }],
    },
    'ADDED',
  );
  assert.equal(authorize(s, dev, listPods).allowed, false, 'the role does not exist yet');
  const role = s.put(`${G}/roles`, 'apps', { metadata: { name: 'pods' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] }, 'ADDED');
  assert.equal(authorize(s, dev, listPods).allowed, true);
  s.put(`${G}/roles`, 'apps', { ...role, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }, 'MODIFIED', role);
  assert.equal(authorize(s, dev, listPods).allowed, false, 'the rule no longer grants list');
  s.put(
    `${G}/clusterroles`,
    '',
    { metadata: { name: 'pod-lister', labels: { agg: 'yes' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    'ADDED',
  );
  assert.equal(authorize(s, { name: 'o', groups: ['ops'] }, listPods).allowed, true, 'aggregated into "aggregate", bound to ops');
  s.remove(`${G}/rolebindings`, 'apps', binding);
  assert.equal(authorize(s, dev, res('get', 'pods', { namespace: 'apps' })).allowed, false);
  s.close();
});
