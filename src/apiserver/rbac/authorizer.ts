import type { KObj, Store } from '../store.ts';

/** Who is asking: the result of authentication (or impersonation). */
export type UserInfo = { name: string; uid?: string; groups: string[] };

/** What is asked, as kube-apiserver's authorizer.Attributes. */
export type Attributes = {
  verb: string;
  /** false for a non-resource URL such as /api or /healthz. */
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
};

/** The attributes of a request for a non-resource URL (`/healthz`, `/api`, `/openapi/v2`). */
export function nonResourceAttributes(verb: string, path: string): Attributes {
  return { verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path };
}

export type Decision = { allowed: boolean; reason: string };

export const MASTERS = 'system:masters';

const K = {
  roles: 'rbac.authorization.k8s.io/roles',
  clusterRoles: 'rbac.authorization.k8s.io/clusterroles',
  roleBindings: 'rbac.authorization.k8s.io/rolebindings',
  clusterRoleBindings: 'rbac.authorization.k8s.io/clusterrolebindings',
};

/**
 * The RBAC objects as the authorizer reads them, parsed once. They change rarely and are read on every request
 * (cloudcore's controllers run under RBAC), so the copy is kept until the store writes one of them.
 */
type RbacView = {
  clusterRoles?: Map<string, KObj>;
  clusterRoleRules: Map<string, KObj[]>;
  clusterRoleBindings?: KObj[];
  roleBindings: Map<string, KObj[]>;
  roles: Map<string, KObj | undefined>;
};
const RBAC_KEYS = new Set(Object.values(K));
const views = new WeakMap<Store, RbacView>();

function viewOf(store: Store): RbacView {
  let v = views.get(store);
  if (v === undefined) {
    const fresh = (): RbacView => ({ clusterRoleRules: new Map(), roleBindings: new Map(), roles: new Map() });
    v = fresh();
    views.set(store, v);
    store.subscribe((e) => {
      if (RBAC_KEYS.has(e.key)) views.set(store, fresh());
    });
  }
  return v;
}

function clusterRoleBindings(store: Store): KObj[] {
  const v = viewOf(store);
  v.clusterRoleBindings ??= store.list(K.clusterRoleBindings);
  return v.clusterRoleBindings;
}

function roleBindings(store: Store, namespace: string): KObj[] {
  const v = viewOf(store);
  let list = v.roleBindings.get(namespace);
  if (list === undefined) v.roleBindings.set(namespace, (list = store.list(K.roleBindings, namespace)));
  return list;
}

function role(store: Store, namespace: string, name: string): KObj | undefined {
  const v = viewOf(store);
  const key = `${namespace}/${name}`;
  if (!v.roles.has(key)) v.roles.set(key, store.get(K.roles, namespace, name));
  return v.roles.get(key);
}

function arr(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function ruleAllows(rule: KObj, a: Attributes): boolean {
  const verbs = arr(rule['verbs']);
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  if (!a.resourceRequest) {
    return arr(rule['nonResourceURLs']).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  const groups = arr(rule['apiGroups']);
  if (!groups.includes('*') && !groups.includes(a.apiGroup)) return false;
  const combined = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const resources = arr(rule['resources']);
  if (!resources.some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`))) return false;
  const names = arr(rule['resourceNames']);
  return names.length === 0 || names.includes(a.name);
}

function subjectMatches(s: KObj, user: UserInfo, bindingNs: string): boolean {
  const name = String(s['name'] ?? '');
  switch (s['kind']) {
    case 'User':
      return name === user.name;
    case 'Group':
      return user.groups.includes(name);
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${String(s['namespace'] ?? bindingNs)}:${name}`;
    default:
      return false;
  }
}

function labelsMatch(labels: Record<string, string>, selector: KObj): boolean {
  const ml = (selector['matchLabels'] ?? {}) as Record<string, string>;
  const exprs = Array.isArray(selector['matchExpressions']) ? (selector['matchExpressions'] as KObj[]) : [];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return false;
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return exprs.every((e) => {
    const key = String(e['key'] ?? '');
    const values = arr(e['values']);
    if (e['operator'] === 'In') return values.includes(labels[key] ?? '\u0000');
    if (e['operator'] === 'NotIn') return !values.includes(labels[key] ?? '\u0000');
    if (e['operator'] === 'Exists') return key in labels;
    if (e['operator'] === 'DoesNotExist') return !(key in labels);
    return false;
  });
}

/** The rules of a ClusterRole by name, aggregated ones included. */
function clusterRoleRules(store: Store): (name: string) => KObj[] {
  const v = viewOf(store);
  v.clusterRoles ??= new Map(store.list(K.clusterRoles).map((r) => [String(r['metadata']?.['name']), r]));
  const clusterRoles = v.clusterRoles;
  return (name: string): KObj[] => {
    const known = v.clusterRoleRules.get(name);
    if (known !== undefined) return known;
    const cr = clusterRoles.get(name);
    if (cr === undefined) return [];
    const rules: KObj[] = Array.isArray(cr['rules']) ? [...cr['rules']] : [];
    const selectors = cr['aggregationRule']?.['clusterRoleSelectors'];
    if (Array.isArray(selectors)) {
      for (const other of clusterRoles.values()) {
        if (other === cr) continue;
        const labels = (other['metadata']?.['labels'] ?? {}) as Record<string, string>;
        if ((selectors as KObj[]).some((sel) => labelsMatch(labels, sel)) && Array.isArray(other['rules'])) rules.push(...other['rules']);
      }
    }
    v.clusterRoleRules.set(name, rules);
    return rules;
  };
}

/**
 * Every rule that applies to `user` in `namespace` (cluster-wide bindings and the namespace's), as
 * SelfSubjectRulesReview lists them for `kubectl auth can-i --list`.
 */
export function rulesFor(store: Store, user: UserInfo, namespace: string): KObj[] {
  const rulesOfClusterRole = clusterRoleRules(store);
  const out: KObj[] = [];
  for (const b of clusterRoleBindings(store)) {
    if (b['roleRef']?.['kind'] !== 'ClusterRole') continue;
    if ((Array.isArray(b['subjects']) ? (b['subjects'] as KObj[]) : []).some((s) => subjectMatches(s, user, '')))
      out.push(...rulesOfClusterRole(String(b['roleRef']['name'])));
  }
  if (namespace !== '') {
    for (const b of roleBindings(store, namespace)) {
      if (!(Array.isArray(b['subjects']) ? (b['subjects'] as KObj[]) : []).some((s) => subjectMatches(s, user, namespace))) continue;
      const ref = b['roleRef'] ?? {};
      if (ref['kind'] === 'ClusterRole') out.push(...rulesOfClusterRole(String(ref['name'])));
      else if (ref['kind'] === 'Role') {
        const r = role(store, namespace, String(ref['name']));
        if (Array.isArray(r?.['rules'])) out.push(...r['rules']);
      }
    }
  }
  return out;
}

/**
 * RBAC as kube-apiserver evaluates it: members of system:masters may do anything; everyone else is allowed
 * what a rule of a Role or ClusterRole bound to them (ClusterRoleBindings everywhere, RoleBindings in their
 * namespace) grants. ClusterRoles with an aggregationRule get the rules of the ClusterRoles their selectors
 * match, as the aggregation controller would have written them.
 */
export function authorize(store: Store, user: UserInfo, a: Attributes): Decision {
  if (user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
  const rulesOfClusterRole = clusterRoleRules(store);
  for (const b of clusterRoleBindings(store)) {
    if (b['roleRef']?.['kind'] !== 'ClusterRole') continue;
    if (!(Array.isArray(b['subjects']) ? (b['subjects'] as KObj[]) : []).some((s) => subjectMatches(s, user, ''))) continue;
    if (rulesOfClusterRole(String(b['roleRef']['name'])).some((r) => ruleAllows(r, a))) {
      return {
        allowed: true,
        reason: `RBAC: allowed by ClusterRoleBinding "${b['metadata']?.['name']}" of ClusterRole "${b['roleRef']['name']}" to ${describe(user)}`,
      };
    }
  }
  if (a.namespace !== '') {
    for (const b of roleBindings(store, a.namespace)) {
      if (!(Array.isArray(b['subjects']) ? (b['subjects'] as KObj[]) : []).some((s) => subjectMatches(s, user, a.namespace))) continue;
      const ref = b['roleRef'] ?? {};
      let rules: KObj[] = [];
      if (ref['kind'] === 'ClusterRole') rules = rulesOfClusterRole(String(ref['name']));
      else if (ref['kind'] === 'Role') {
        const r = role(store, a.namespace, String(ref['name']));
        rules = Array.isArray(r?.['rules']) ? r['rules'] : [];
      }
      if (rules.some((r) => ruleAllows(r, a))) {
        return {
          allowed: true,
          reason: `RBAC: allowed by RoleBinding "${b['metadata']?.['name']}/${a.namespace}" of ${ref['kind']} "${ref['name']}" to ${describe(user)}`,
        };
      }
    }
  }
  return { allowed: false, reason: '' };
}

function describe(user: UserInfo): string {
  return user.name.startsWith('system:serviceaccount:') ? `ServiceAccount "${user.name.split(':').slice(2).join('/')}"` : `User "${user.name}"`;
}

/** The 403 message kube-apiserver writes for a denied request. */
export function forbiddenMessage(user: UserInfo, a: Attributes): string {
  if (!a.resourceRequest) return `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const what = `${res}${a.apiGroup === '' ? '' : `.${a.apiGroup}`}${a.name === '' ? '' : ` "${a.name}"`}`;
  const where = a.namespace === '' ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  return `${what} is forbidden: User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}" ${where}`;
}
