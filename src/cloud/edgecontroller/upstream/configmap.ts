import type { KubeObject } from '../../../kube/rest.ts';
import { goStatusError, isNotFound, KubeApiError, paths } from '../../../kube/rest.ts';
import { resourceVersionOf, type UpstreamContext, type UpstreamHandler, type UpstreamReply, type UpstreamRequest } from './types.ts';

function queryObject(plural: string, kind: string): UpstreamHandler {
  return async function queryNamespaced(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
    try {
      const raw = await ctx.kube.get(paths.namespaced(req.namespace, plural, req.name));
      const obj: KubeObject = { ...raw, kind, apiVersion: 'v1' };
      const rv = resourceVersionOf(obj);
      return { content: obj, ...(rv === undefined ? {} : { resourceVersion: rv }) };
    } catch (err) {
      // Query errors go back bare: `{"ErrStatus": {...}}`.
      return { content: goStatusError(err) };
    }
  };
}

type TokenRequest = KubeObject & { spec?: { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: unknown } };

/**
 * `serviceaccounttoken` query: the content is a TokenRequest for service account `<name>` (audiences,
 * expirationSeconds, boundObjectRef as the edge asks); the reply is the TokenRequest the API server minted
 * (POST serviceaccounts/<sa>/token, on a real cluster and on the embedded server alike), as KubeEdge sends it.
 * A missing ServiceAccount is an error, as KubeEdge reports it. Only a server without that endpoint gets a
 * TokenRequest with an empty token, so the projected volume still materialises on the edge.
 */
async function queryServiceAccountToken(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const c = req.msg.content;
  const asked: TokenRequest = typeof c === 'object' && c !== null && !Array.isArray(c) ? (c as TokenRequest) : {};
  const spec = asked.spec ?? {};
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: req.name, namespace: req.namespace }, spec };
  try {
    const tr = await ctx.kube.create(paths.namespaced(req.namespace, 'serviceaccounts', req.name, 'token'), body);
    return { content: { ...tr, kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1' } };
  } catch (err) {
    if (!(endpointMissing(err) || (err instanceof KubeApiError && err.statusCode === 405))) return { content: goStatusError(err) };
    const seconds = typeof spec.expirationSeconds === 'number' && spec.expirationSeconds > 0 ? spec.expirationSeconds : 3600;
    return {
      content: {
        ...body,
        metadata: { ...body.metadata, creationTimestamp: null },
        status: { token: '', expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      },
    };
  }
}

/** A 404 for the token endpoint itself, not for the ServiceAccount (whose 404 names it in details). */
function endpointMissing(err: unknown): boolean {
  if (!isNotFound(err) || !(err instanceof KubeApiError)) return false;
  const details = err.status['details'] as { kind?: unknown } | undefined;
  return details?.kind !== 'serviceaccounts';
}

/**
 * Query handlers for configmaps, secrets and service-account tokens. The edge stores a ConfigMap/Secret it gets
 * in a reply like a pushed one; CloudHub's reliable queue records that when it writes the reply.
 */
export const queryHandlers: Record<string, UpstreamHandler> = {
  'configmap:query': queryObject('configmaps', 'ConfigMap'),
  'secret:query': queryObject('secrets', 'Secret'),
  'serviceaccounttoken:query': queryServiceAccountToken,
};
