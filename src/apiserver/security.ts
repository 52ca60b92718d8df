import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeKubeConfig } from './auth.ts';
import { serveReview, serveTokenRequest } from './authn/api.ts';
import { Authenticator, impersonate } from './authn/authenticator.ts';
import { API_AUDIENCES, ServiceAccountTokens } from './authn/sa-tokens.ts';
import type { Engine } from './engine.ts';
import { authorize, forbiddenMessage, nonResourceAttributes, type Attributes, type UserInfo } from './rbac/authorizer.ts';
import { bootstrapRbac } from './rbac/bootstrap.ts';
import { CLOUDCORE_NAMESPACE, CLOUDCORE_SERVICE_ACCOUNT, bootstrapCloudcoreIdentity } from './rbac/components.ts';
import { isMetricsResource } from './metrics/resources.ts';
import type { Route } from './router.ts';
import { ApiError } from './status.ts';

/**
 * Authentication, impersonation, RBAC authorization and the authentication/authorization APIs, in one
 * object index.ts calls: `authenticate` (401 when undefined), `authorize` (throws 403), `special` (the
 * requests answered here, not by the resource handler) and `serve`.
 */
export type Security = {
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /** `special`: what `special()` answered for this request (so it is worked out once). */
  authorize(user: UserInfo, method: string, path: string, r: Route, query: URLSearchParams, special: Special | undefined): void;
  special(path: string, method: string, r: Route): Special | undefined;
  serve(s: Special, user: UserInfo, method: string, body: unknown, res: ServerResponse): void;
  /** Writes a kubeconfig for cloudcore's least-privilege ServiceAccount (a fresh one-year token at each start). */
  writeCloudcoreKubeConfig(path: string, server: string, caPem: string): Promise<void>;
};

export type Special = { type: 'token'; namespace: string; name: string } | { type: 'review'; route: Extract<Route, { type: 'resource' }> };

const TOKEN_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/;

function verbOf(method: string, r: Extract<Route, { type: 'resource' }>, query: URLSearchParams): string {
  const watch = r.watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : r.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

export function attributesOf(method: string, path: string, r: Route, query: URLSearchParams, special?: Special): Attributes {
  if (special?.type === 'token') {
    return {
      verb: 'create',
      resourceRequest: true,
      apiGroup: '',
      resource: 'serviceaccounts',
      subresource: 'token',
      namespace: special.namespace,
      name: special.name,
      path,
    };
  }
  if (r.type === 'resource') {
    return {
      verb: verbOf(method, r, query),
      resourceRequest: true,
      apiGroup: r.def.group,
      resource: r.def.plural,
      subresource: r.sub ?? '',
      namespace: r.def.namespaced ? (r.namespace ?? '') : '',
      name: r.name ?? '',
      path,
    };
  }
  return nonResourceAttributes(method === 'HEAD' ? 'get' : method.toLowerCase(), path);
}

function special(path: string, method: string, r: Route): Special | undefined {
  const m = method === 'POST' ? TOKEN_PATH.exec(path) : null;
  if (m !== null) return { type: 'token', namespace: decodeURIComponent(m[1] ?? ''), name: decodeURIComponent(m[2] ?? '') };
  if (r.type === 'resource' && r.def.virtual === true && !isMetricsResource(r.def)) return { type: 'review', route: r };
  return undefined;
}

export async function startSecurity(dataDir: string, adminToken: string, engine: Engine): Promise<Security> {
  const tokens = await ServiceAccountTokens.load(dataDir);
  const authn = new Authenticator(adminToken, tokens, engine.store);
  bootstrapRbac(engine);
  const cloudcoreSa = bootstrapCloudcoreIdentity(engine);
  return {
    authenticate(req) {
      const user = authn.authenticate(req);
      return user === undefined ? undefined : impersonate(engine.store, req, user);
    },
    authorize(user, method, path, r, query, sp) {
      const a = attributesOf(method, path, r, query, sp);
      if (authorize(engine.store, user, a).allowed) return;
      throw new ApiError(403, 'Forbidden', forbiddenMessage(user, a), {
        ...(a.name === '' ? {} : { name: a.name }),
        ...(a.apiGroup === '' ? {} : { group: a.apiGroup }),
        ...(a.resourceRequest ? { kind: a.resource } : {}),
      });
    },
    special,
    serve(s, user, method, body, res) {
      const c = { engine, authn, tokens, user, res, body };
      if (s.type === 'token') serveTokenRequest(c, s.namespace, s.name);
      else serveReview(c, s.route.def, method, s.route.namespace);
    },
    async writeCloudcoreKubeConfig(path, server, caPem) {
      if (cloudcoreSa === undefined) return;
      const { token } = tokens.issue({
        namespace: CLOUDCORE_NAMESPACE,
        name: CLOUDCORE_SERVICE_ACCOUNT,
        uid: String(cloudcoreSa['metadata']?.['uid'] ?? ''),
        audiences: API_AUDIENCES,
        expirationSeconds: 365 * 86_400,
      });
      const name = `system:serviceaccount:${CLOUDCORE_NAMESPACE}:${CLOUDCORE_SERVICE_ACCOUNT}`;
      await writeKubeConfig(path, server, caPem, token, { name, context: 'cloudcore@kubeedge', namespace: CLOUDCORE_NAMESPACE });
    },
  };
}
