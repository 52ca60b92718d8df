import { contentAsObject } from '../../../core/message.ts';
import { goStatusError, isNotFound, paths, type KubeObject } from '../../../kube/rest.ts';
import {
  objectResp,
  resourceVersionOf,
  withoutTypeMeta,
  type UpstreamContext,
  type UpstreamHandler,
  type UpstreamReply,
  type UpstreamRequest,
} from './types.ts';

const podPath = (ns: string, name: string, sub?: string) => paths.namespaced(ns, 'pods', name, sub);

/**
 * `podpatch`: the edge's kubelet status manager sends a strategic-merge patch of the pod (its status, and
 * `metadata.uid` as a guard) as a JSON string. Applied to pods/<name>/status; reply `{Object, Err}` + rv.
 */
async function patchPodStatus(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const patch = typeof req.msg.content === 'string' ? req.msg.content : JSON.stringify(req.msg.content ?? {});
  let parsed: unknown;
  try {
    parsed = JSON.parse(patch);
  } catch {
    return { content: objectResp(null, goStatusError(new Error('podpatch content is not JSON'))) };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { content: objectResp(null, goStatusError(new Error('podpatch content is not a JSON object'))) };
  }
  try {
    const pod = await ctx.kube.patch(podPath(req.namespace, req.name, 'status'), patch, 'strategic');
    const rv = resourceVersionOf(pod);
    return { content: objectResp(withoutTypeMeta(pod)), ...(rv === undefined ? {} : { resourceVersion: rv }) };
  } catch (err) {
    return { content: objectResp(null, goStatusError(err)) };
  }
}

type LegacyStatus = { UID?: unknown; uid?: unknown; Name?: unknown; name?: unknown; Status?: unknown; status?: unknown };

/**
 * `podstatus` (edges <= 1.11): `{UID, Name?, Status}` or a list of them. Each status replaces the pod's
 * status if the UID still matches. KubeEdge sends no reply.
 */
async function legacyPodStatus(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const c = contentAsObject(req.msg);
  const list: LegacyStatus[] = (Array.isArray(c) ? c : [c]).filter((x): x is LegacyStatus => typeof x === 'object' && x !== null);
  for (const s of list) {
    const name = typeof s.Name === 'string' ? s.Name : typeof s.name === 'string' ? s.name : req.name;
    const uid = s.UID ?? s.uid;
    const status = s.Status ?? s.status;
    if (name === '' || typeof status !== 'object' || status === null) continue;
    try {
      const pod = await ctx.kube.get(podPath(req.namespace, name));
      if (typeof uid === 'string' && uid !== '' && pod.metadata?.uid !== uid) continue;
      await ctx.kube.patch(podPath(req.namespace, name, 'status'), { metadata: { uid: pod.metadata?.uid }, status }, 'merge');
    } catch (err) {
      ctx.log.warn({ node: req.nodeId, pod: `${req.namespace}/${name}`, err }, 'legacy podstatus update failed');
    }
  }
  return undefined;
}

/**
 * `pod` delete from the edge: after the containers are gone the kubelet deletes the pod with
 * `{gracePeriodSeconds: 0, preconditions: {uid}}`. Reply "OK" (also when it is already gone).
 */
async function deletePod(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const c = contentAsObject(req.msg);
  const opts: KubeObject = typeof c === 'object' && c !== null && !Array.isArray(c) ? { ...(c as KubeObject) } : {};
  opts.kind ??= 'DeleteOptions';
  opts.apiVersion ??= 'v1';
  try {
    await ctx.kube.delete(podPath(req.namespace, req.name), opts);
    return { content: 'OK' };
  } catch (err) {
    if (isNotFound(err)) return { content: 'OK' };
    ctx.log.warn({ node: req.nodeId, pod: `${req.namespace}/${req.name}`, err }, 'pod delete from edge failed');
    return { content: goStatusError(err) };
  }
}

export const podHandlers: Record<string, UpstreamHandler> = {
  'podpatch:patch': patchPodStatus,
  'podpatch:update': patchPodStatus,
  'podstatus:update': legacyPodStatus,
  'podstatus:insert': legacyPodStatus,
  'pod:delete': deletePod,
};
