import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../status.ts';
import type { Store } from '../store.ts';
import { authorize, MASTERS, type UserInfo } from '../rbac/authorizer.ts';
import { API_AUDIENCES, looksLikeJwt, type ServiceAccountTokens } from './sa-tokens.ts';

const SA_KEY = '/serviceaccounts';

/** The admin bearer token's identity: kubeadm's admin.conf user, a member of system:masters. */
export const ADMIN: UserInfo = { name: 'kubernetes-admin', groups: [MASTERS, 'system:authenticated'] };

/**
 * Authentication as kube-apiserver chains it: a client certificate signed by the server's CA (CN = user,
 * O = groups), then a bearer token (the admin token, or a ServiceAccount token signed by this server whose
 * ServiceAccount still exists with the same uid). Undefined = 401.
 */
export class Authenticator {
  readonly #admin: Buffer;
  readonly #tokens: ServiceAccountTokens;
  readonly #store: Store;
  /** ServiceAccount uid by `namespace/name` (undefined: none), read once and forgotten when that ServiceAccount is written. */
  readonly #saUids = new Map<string, string | undefined>();

  constructor(adminToken: string, tokens: ServiceAccountTokens, store: Store) {
    this.#admin = Buffer.from(adminToken);
    this.#tokens = tokens;
    this.#store = store;
    store.subscribe((e) => {
      if (e.key === SA_KEY) this.#saUids.delete(`${e.namespace}/${String(e.object['metadata']?.['name'] ?? '')}`);
    });
  }

  /**
   * A token's ServiceAccount must still exist with the same uid. Controllers send a token with every request,
   * so the uid is remembered rather than read and parsed from the store each time.
   */
  #saUid(namespace: string, name: string): string | undefined {
    const key = `${namespace}/${name}`;
    if (!this.#saUids.has(key)) {
      const uid = this.#store.get(SA_KEY, namespace, name)?.['metadata']?.['uid'];
      this.#saUids.set(key, typeof uid === 'string' ? uid : undefined);
    }
    return this.#saUids.get(key);
  }

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const sock = req.socket as TLSSocket;
    if (sock.authorized === true && typeof sock.getPeerCertificate === 'function') {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (typeof cn === 'string' && cn !== '') {
        const o = cert.subject.O as string | string[] | undefined;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        return { name: cn, groups: [...groups, 'system:authenticated'] };
      }
    }
    const auth = (req.headers.authorization ?? '').trim();
    if (!/^bearer /i.test(auth)) return undefined;
    const token = auth.slice(7).trim();
    return this.authenticateToken(token, API_AUDIENCES);
  }

  /** A bearer token's identity (also what TokenReview answers), for a token meant for one of `audiences`. */
  authenticateToken(token: string, audiences: string[]): UserInfo | undefined {
    const got = Buffer.from(token);
    if (got.length === this.#admin.length && timingSafeEqual(got, this.#admin)) return ADMIN;
    if (!looksLikeJwt(token)) return undefined;
    const claims = this.#tokens.verify(token, audiences);
    if (claims === undefined) return undefined;
    const k = claims['kubernetes.io'];
    if (this.#saUid(k.namespace, k.serviceaccount.name) !== k.serviceaccount.uid) return undefined;
    return {
      name: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    };
  }
}

function headerList(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Impersonate-User / Impersonate-Group / Impersonate-Uid: allowed when the real user may `impersonate` each
 * (the admin may), as kube-apiserver's impersonation filter checks; the result is the identity the rest of
 * the request runs as.
 */
export function impersonate(store: Store, req: IncomingMessage, user: UserInfo): UserInfo {
  const as = headerList(req, 'impersonate-user')[0];
  const groups = headerList(req, 'impersonate-group');
  const uid = headerList(req, 'impersonate-uid')[0];
  if (as === undefined) {
    if (groups.length > 0 || uid !== undefined)
      throw new ApiError(500, 'InternalError', 'Internal error occurred: requested impersonation of groups without a user');
    return user;
  }
  const check = (resource: string, name: string, namespace = '', apiGroup = '') => {
    const d = authorize(store, user, { verb: 'impersonate', resourceRequest: true, apiGroup, resource, subresource: '', namespace, name, path: '' });
    if (!d.allowed) {
      throw new ApiError(
        403,
        'Forbidden',
        `${resource} "${name}" is forbidden: User "${user.name}" cannot impersonate resource "${resource}" in API group "${apiGroup}"${namespace === '' ? ' at the cluster scope' : ` in the namespace "${namespace}"`}`,
        {
          name,
          kind: resource,
        },
      );
    }
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(as);
  if (sa !== null) check('serviceaccounts', sa[2] ?? '', sa[1] ?? '');
  else check('users', as);
  for (const g of groups) check('groups', g);
  if (uid !== undefined) check('uids', uid, '', 'authentication.k8s.io');
  const out = new Set(groups);
  if (sa !== null && groups.length === 0) {
    out.add('system:serviceaccounts');
    out.add(`system:serviceaccounts:${sa[1]}`);
  }
  if (as !== 'system:anonymous') out.add('system:authenticated');
  return { name: as, groups: [...out], ...(uid === undefined ? {} : { uid }) };
}
