import { contentAsObject } from '../../../core/message.ts';
import { goStatusError, paths, type KubeObject } from '../../../kube/rest.ts';
import { objectResp, withoutTypeMeta, type UpstreamContext, type UpstreamHandler, type UpstreamReply, type UpstreamRequest } from './types.ts';

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

async function putLease(ctx: UpstreamContext, req: UpstreamRequest, body: KubeObject): Promise<UpstreamReply> {
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
}

/** A renewal waiting behind the one in flight for the same Lease, and every edge request it answers. */
type Waiting = { req: UpstreamRequest; body: KubeObject; answer: Array<(r: UpstreamReply) => void> };

/**
 * Lease renewals coalesced per Lease: one write in flight, and of the renewals that arrive meanwhile only the
 * newest is written next; each superseded request gets that newer renewal's reply (the Lease as it now is,
 * which is what the edge's lease controller bases its next renewal on). An edge whose renewals pile up (the API
 * server slow, a reconnect storm) then costs one write at a time, not a backlog of stale ones.
 */
function renewLease(): UpstreamHandler {
  const waiting = new Map<string, Waiting | undefined>();
  return async (ctx, req) => {
    const body = contentAsObject(req.msg) as KubeObject | null;
    if (typeof body !== 'object' || body === null) return { content: objectResp(null, goStatusError(new Error('lease update without a Lease'))) };
    const key = `${req.namespace}/${req.name}`;
    if (waiting.has(key)) {
      return new Promise<UpstreamReply>((resolve) => {
        const prev = waiting.get(key);
        waiting.set(key, { req, body, answer: [...(prev?.answer ?? []), resolve] });
      });
    }
    waiting.set(key, undefined); // a write is in flight
    try {
      const reply = await putLease(ctx, req, body);
      for (let next = waiting.get(key); next !== undefined; next = waiting.get(key)) {
        waiting.set(key, undefined);
        const r = await putLease(ctx, next.req, next.body);
        for (const answer of next.answer) answer(r);
      }
      return reply;
    } finally {
      waiting.delete(key);
    }
  };
}

/** The Lease handlers; each call has its own renewal coalescing (one per EdgeController). */
export function leaseHandlers(): Record<string, UpstreamHandler> {
  return { 'lease:query': queryLease, 'lease:insert': createLease, 'lease:update': renewLease() };
}
