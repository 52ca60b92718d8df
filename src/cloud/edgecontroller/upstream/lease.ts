import { contentAsObject } from '../../../core/message.ts';
import { goStatusError, paths, type KubeObject } from '../../../kube/rest.ts';
import { objectResp, withoutTypeMeta, type UpstreamHandler } from './types.ts';

// Lease replies are always `{Object, Err}` and carry no resourceversion header (wire transcript 4.1).

const queryLease: UpstreamHandler = async (ctx, req) => {
  try {
    const lease = await ctx.kube.get(paths.lease(req.namespace, req.name));
    return { content: objectResp({ kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', ...lease }) };
  } catch (err) {
    return { content: objectResp(null, goStatusError(err)) };
  }
};

const emptyLease = { metadata: { creationTimestamp: null }, spec: {} };

const createLease: UpstreamHandler = async (ctx, req) => {
  const body = contentAsObject(req.msg) as KubeObject | null;
  if (typeof body !== 'object' || body === null) return { content: objectResp(emptyLease, goStatusError(new Error('lease insert without a Lease'))) };
  try {
    const lease = await ctx.kube.create(paths.leases(req.namespace), {
      ...body,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...(body.metadata ?? {}), name: req.name, namespace: req.namespace },
    });
    return { content: objectResp(withoutTypeMeta(lease)) };
  } catch (err) {
    return { content: objectResp(emptyLease, goStatusError(err)) };
  }
};

const renewLease: UpstreamHandler = async (ctx, req) => {
  const body = contentAsObject(req.msg) as KubeObject | null;
  if (typeof body !== 'object' || body === null) return { content: objectResp(null, goStatusError(new Error('lease update without a Lease'))) };
  try {
    const lease = await ctx.kube.replace(paths.lease(req.namespace, req.name), {
      ...body,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
    });
    return { content: objectResp(withoutTypeMeta(lease)) };
  } catch (err) {
    return { content: objectResp(null, goStatusError(err)) };
  }
};

export const leaseHandlers: Record<string, UpstreamHandler> = {
  'lease:query': queryLease,
  'lease:insert': createLease,
  'lease:update': renewLease,
};
