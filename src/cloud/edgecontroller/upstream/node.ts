import { contentAsObject } from '../../../core/message.ts';
import { goStatusError, isAlreadyExists, paths, type KubeObject } from '../../../kube/rest.ts';
import { EDGE_ROLE_LABEL, EDGEMESH_LABEL } from '../../common/nodes.ts';
import {
  objectResp,
  resourceVersionOf,
  withoutTypeMeta,
  type UpstreamContext,
  type UpstreamHandler,
  type UpstreamReply,
  type UpstreamRequest,
} from './types.ts';

function withTypeMeta(node: KubeObject): KubeObject {
  return { kind: 'Node', apiVersion: 'v1', ...node };
}

async function queryNode(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  try {
    const node = await ctx.kube.get(paths.node(req.name));
    const rv = resourceVersionOf(node);
    return { content: withTypeMeta(node), ...(rv === undefined ? {} : { resourceVersion: rv }) };
  } catch (err) {
    // KubeEdge answers a failed node query with the bare error, not wrapped in {Object, Err}.
    return { content: goStatusError(err) };
  }
}

/**
 * Registration. A node that already exists (an edge re-registering after its database was wiped) is
 * answered with the stored object: registration is idempotent for the edge.
 */
async function registerNode(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const body = contentAsObject(req.msg) as KubeObject;
  if (typeof body !== 'object' || body === null) {
    return { content: objectResp(null, goStatusError(new Error('node registration without a Node object'))) };
  }
  const metadata = { ...(body.metadata ?? {}), name: req.name } as NonNullable<KubeObject['metadata']>;
  const labels = { ...((metadata['labels'] as Record<string, string> | undefined) ?? {}) };
  labels[EDGE_ROLE_LABEL] ??= '';
  metadata['labels'] = labels;
  const node: KubeObject = { ...withoutTypeMeta(body), apiVersion: 'v1', kind: 'Node', metadata };
  try {
    const created = await ctx.kube.create(paths.nodes(), node);
    ctx.log.info({ node: req.name }, 'edge node registered');
    return { content: objectResp(withoutTypeMeta(created)) };
  } catch (err) {
    if (isAlreadyExists(err)) {
      const existing = await ctx.kube.get(paths.node(req.name)).catch(() => null);
      if (existing !== null) return { content: objectResp(withoutTypeMeta(await syncMeshLabel(ctx, req.name, existing, labels))) };
    }
    ctx.log.warn({ node: req.name, err }, 'node registration failed');
    return { content: objectResp(null, goStatusError(err)) };
  }
}

/** `nodepatch`: a strategic-merge patch of the node's status, sent by the edge as a JSON string. */
async function patchNodeStatus(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const patch = typeof req.msg.content === 'string' ? req.msg.content : JSON.stringify(req.msg.content ?? {});
  try {
    JSON.parse(patch);
  } catch {
    return { content: objectResp(null, goStatusError(new Error('nodepatch content is not JSON'))) };
  }
  try {
    const node = await ctx.kube.patch(paths.nodeStatus(req.name), patch, 'strategic');
    const rv = resourceVersionOf(node);
    return { content: objectResp(withoutTypeMeta(node)), ...(rv === undefined ? {} : { resourceVersion: rv }) };
  } catch (err) {
    return { content: objectResp(null, goStatusError(err)) };
  }
}

/** Old edges (KubeEdge <= 1.11) send `nodestatus` with `{UID, Status, ExtendResources}` every few seconds. */
async function legacyNodeStatus(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const c = contentAsObject(req.msg) as { Status?: unknown; status?: unknown } | null;
  const status = c?.Status ?? c?.status;
  if (typeof status !== 'object' || status === null) return { content: 'OK' };
  try {
    await ctx.kube.patch(paths.nodeStatus(req.name), { status }, 'strategic');
    return { content: 'OK' };
  } catch (err) {
    return { content: goStatusError(err) };
  }
}

/** `update` of a node: the edge sends the whole Node; only its status is the edge's to change. */
async function updateNode(ctx: UpstreamContext, req: UpstreamRequest): Promise<UpstreamReply> {
  const body = contentAsObject(req.msg) as KubeObject | null;
  const status = body?.['status'];
  if (typeof status !== 'object' || status === null) return { content: objectResp(null, goStatusError(new Error('node update without status'))) };
  try {
    const node = await ctx.kube.patch(paths.nodeStatus(req.name), { status }, 'merge');
    return { content: objectResp(withoutTypeMeta(node)) };
  } catch (err) {
    return { content: objectResp(null, goStatusError(err)) };
  }
}

export const nodeHandlers: Record<string, UpstreamHandler> = {
  'node:query': queryNode,
  'node:insert': registerNode,
  'node:update': updateNode,
  'nodepatch:patch': patchNodeStatus,
  'nodepatch:update': patchNodeStatus,
  'nodestatus:insert': legacyNodeStatus,
  'nodestatus:update': legacyNodeStatus,
};

/**
 * The one label an edge may change on re-registration: EdgeMesh on or off (edgecore's config changed). Other
 * labels of an existing node are the cluster's and stay as they are.
 */
async function syncMeshLabel(ctx: UpstreamContext, name: string, existing: KubeObject, wanted: Record<string, string>): Promise<KubeObject> {
  const have = (existing.metadata?.['labels'] as Record<string, string> | undefined)?.[EDGEMESH_LABEL];
  const want = wanted[EDGEMESH_LABEL];
  if (have === want) return existing;
  try {
    const patched = await ctx.kube.patch(paths.node(name), { metadata: { labels: { [EDGEMESH_LABEL]: want ?? null } } }, 'merge');
    ctx.log.info({ node: name, edgemesh: want ?? 'off' }, 'edge node re-registered with EdgeMesh switched');
    return patched;
  } catch (err) {
    ctx.log.warn({ node: name, err }, 'cannot update the EdgeMesh label of the node');
    return existing;
  }
}
