import { contentAsObject } from '../../../core/message.ts';
import { goStatusError, isAlreadyExists, isNotFound, paths, type KubeObject } from '../../../kube/rest.ts';
import { objectResp, withoutTypeMeta, type UpstreamContext, type UpstreamHandler, type UpstreamReply, type UpstreamRequest } from './types.ts';

/**
 * `event` insert/update/patch from the edge's kubelet recorder → a core/v1 Event in the API server. An update
 * of an event the server does not have (it expired, or cloudcore's server is fresh) creates it; a patch whose
 * content is a patch document rather than an Event is applied as a strategic-merge patch.
 */
async function writeEvent(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const c = contentAsObject(req.msg);
  if (typeof c !== 'object' || c === null || Array.isArray(c)) {
    return { content: objectResp(null, goStatusError(new Error('event content is not an object'))) };
  }
  const body = c as KubeObject;
  const ns = body.metadata?.namespace ?? (req.namespace !== '' && req.namespace !== 'null' ? req.namespace : 'default');
  const name = body.metadata?.name ?? req.name;
  const op = req.msg.route.operation;
  const isFullEvent = body['involvedObject'] !== undefined;
  try {
    let out: KubeObject;
    if (op === 'patch' && !isFullEvent) {
      out = await ctx.kube.patch(paths.namespaced(ns, 'events', name), body, 'strategic');
    } else {
      const event: KubeObject = { ...body, kind: 'Event', apiVersion: 'v1', metadata: { ...(body.metadata ?? {}), name, namespace: ns } };
      if (op === 'insert') out = await create(ctx, ns, event);
      else out = await replaceOrCreate(ctx, ns, name, event);
    }
    return { content: objectResp(withoutTypeMeta(out)) };
  } catch (err) {
    ctx.log.debug({ node: req.nodeId, event: `${ns}/${name}`, err }, 'event from edge not written');
    return { content: objectResp(null, goStatusError(err)) };
  }
}

async function create(ctx: UpstreamContext, ns: string, event: KubeObject): Promise<KubeObject> {
  const md = { ...(event.metadata ?? {}) };
  delete md['resourceVersion'];
  delete md['uid'];
  try {
    return await ctx.kube.create(paths.namespaced(ns, 'events'), { ...event, metadata: md });
  } catch (err) {
    if (!isAlreadyExists(err) || typeof md.name !== 'string') throw err;
    return replaceOrCreate(ctx, ns, md.name, event);
  }
}

async function replaceOrCreate(ctx: UpstreamContext, ns: string, name: string, event: KubeObject): Promise<KubeObject> {
  const md = { ...(event.metadata ?? {}) };
  delete md['resourceVersion'];
  try {
    return await ctx.kube.replace(paths.namespaced(ns, 'events', name), { ...event, metadata: md });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const { resourceVersion: _rv, uid: _uid, ...fresh } = md;
    return ctx.kube.create(paths.namespaced(ns, 'events'), { ...event, metadata: fresh });
  }
}

export const eventHandlers: Record<string, UpstreamHandler> = {
  'event:insert': writeEvent,
  'event:update': writeEvent,
  'event:patch': writeEvent,
};
