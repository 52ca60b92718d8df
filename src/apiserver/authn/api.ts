import type { ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { rfc3339 } from '../defaults.ts';
import { sendJson } from '../handlers/http.ts';
import type { ResourceDef } from '../resources.ts';
import { authorize, nonResourceAttributes, rulesFor, type Attributes, type UserInfo } from '../rbac/authorizer.ts';
import { badRequest, invalid, methodNotAllowed, notFound } from '../status.ts';
import type { KObj } from '../store.ts';
import type { Authenticator } from './authenticator.ts';
import { API_AUDIENCES, type ServiceAccountTokens } from './sa-tokens.ts';
import { isObj } from '../kobj.ts';

function specOf(body: unknown): KObj {
  if (!isObj(body)) throw badRequest('the body must be a JSON object');
  return isObj(body['spec']) ? body['spec'] : {};
}

/** Attributes of a SubjectAccessReview spec (resourceAttributes or nonResourceAttributes). */
function attributesOf(spec: KObj): Attributes {
  const ra = spec['resourceAttributes'];
  const na = spec['nonResourceAttributes'];
  if (isObj(ra)) {
    return {
      verb: String(ra['verb'] ?? ''),
      resourceRequest: true,
      apiGroup: String(ra['group'] ?? ''),
      resource: String(ra['resource'] ?? ''),
      subresource: String(ra['subresource'] ?? ''),
      namespace: String(ra['namespace'] ?? ''),
      name: String(ra['name'] ?? ''),
      path: '',
    };
  }
  if (isObj(na)) {
    return nonResourceAttributes(String(na['verb'] ?? ''), String(na['path'] ?? ''));
  }
  throw invalid(
    'SubjectAccessReview',
    'authorization.k8s.io',
    '',
    'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
  );
}

export type AuthApiContext = { engine: Engine; authn: Authenticator; tokens: ServiceAccountTokens; user: UserInfo; res: ServerResponse; body: unknown };

/** POST serviceaccounts/<name>/token: a TokenRequest answered with a signed token (kubectl create token). */
export function serveTokenRequest(c: AuthApiContext, namespace: string, name: string): void {
  const sa = c.engine.store.get('/serviceaccounts', namespace, name);
  if (sa === undefined) throw notFound('serviceaccounts', '', name);
  const spec = specOf(c.body ?? {});
  const audiences = Array.isArray(spec['audiences']) && spec['audiences'].length > 0 ? spec['audiences'].map(String) : API_AUDIENCES;
  const expirationSeconds = spec['expirationSeconds'] === undefined ? 3600 : Number(spec['expirationSeconds']);
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
    throw invalid('TokenRequest', 'authentication.k8s.io', name, 'spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes');
  }
  if (expirationSeconds > 2 ** 32)
    throw invalid('TokenRequest', 'authentication.k8s.io', name, 'spec.expirationSeconds: Invalid value: may not specify a duration larger than 2^32 seconds');
  const { token, exp } = c.tokens.issue({ namespace, name, uid: String(sa['metadata']?.['uid'] ?? ''), audiences, expirationSeconds });
  sendJson(c.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { ...spec, audiences, expirationSeconds },
    status: { token, expirationTimestamp: rfc3339(exp * 1000) },
  });
}

/** The review kinds: computed for the request, never stored; 201 with the object and its status. */
export function serveReview(c: AuthApiContext, def: ResourceDef, method: string, namespace: string | undefined): void {
  if (method !== 'POST') throw methodNotAllowed();
  const spec = specOf(c.body);
  const store = c.engine.store;
  const reply = (status: KObj) =>
    sendJson(c.res, 201, { kind: def.kind, apiVersion: `${def.group}/${def.version}`, metadata: { creationTimestamp: null }, spec, status });
  const decide = (user: UserInfo, a: Attributes) => {
    const d = authorize(store, user, a);
    return { allowed: d.allowed, ...(d.reason === '' ? {} : { reason: d.reason }) };
  };
  switch (def.kind) {
    case 'SelfSubjectAccessReview':
      return reply(decide(c.user, attributesOf(spec)));
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      const a = attributesOf(spec);
      if (def.kind === 'LocalSubjectAccessReview' && a.namespace !== (namespace ?? '')) {
        throw invalid(def.kind, def.group, '', 'spec.resourceAttributes.namespace: Invalid value: must match metadata.namespace');
      }
      const user: UserInfo = {
        name: String(spec['user'] ?? ''),
        groups: Array.isArray(spec['groups']) ? spec['groups'].map(String) : [],
        ...(spec['uid'] === undefined ? {} : { uid: String(spec['uid']) }),
      };
      if (user.name === '' && user.groups.length === 0)
        throw invalid(def.kind, def.group, '', 'spec.user: Invalid value: "": at least one of user or group must be specified');
      return reply(decide(user, a));
    }
    case 'SelfSubjectRulesReview': {
      const rules = rulesFor(store, c.user, String(spec['namespace'] ?? ''));
      const pick = (r: KObj, keys: string[]) => Object.fromEntries(keys.filter((k) => Array.isArray(r[k])).map((k) => [k, r[k]]));
      return reply({
        resourceRules: rules.filter((r) => !Array.isArray(r['nonResourceURLs'])).map((r) => pick(r, ['verbs', 'apiGroups', 'resources', 'resourceNames'])),
        nonResourceRules: rules.filter((r) => Array.isArray(r['nonResourceURLs'])).map((r) => pick(r, ['verbs', 'nonResourceURLs'])),
        incomplete: false,
      });
    }
    case 'TokenReview': {
      const audiences = Array.isArray(spec['audiences']) && spec['audiences'].length > 0 ? spec['audiences'].map(String) : API_AUDIENCES;
      const u = c.authn.authenticateToken(String(spec['token'] ?? ''), audiences);
      if (u === undefined) return reply({ authenticated: false, error: 'invalid bearer token' });
      return reply({ authenticated: true, user: { username: u.name, groups: u.groups, ...(u.uid === undefined ? {} : { uid: u.uid }) }, audiences });
    }
    case 'SelfSubjectReview':
      return reply({ userInfo: { username: c.user.name, groups: c.user.groups, ...(c.user.uid === undefined ? {} : { uid: c.user.uid }) } });
    default:
      throw methodNotAllowed();
  }
}
