import { parseResource, type Message } from '../../core/message.ts';
import { NODE_METRICS_TYPE } from '../edgemetrics/edgemetrics.ts';
import { CloudModules, UpstreamSources } from '../common/modules.ts';

/** Cloud-internal resources are `node/<nodeId>/<ns>/<type>/<name>`; the edge sees only `<ns>/<type>/<name>`. */
export function withNodePrefix(nodeId: string, msg: Message): Message {
  return { ...msg, route: { ...msg.route, resource: `node/${nodeId}/${msg.route.resource ?? ''}` } };
}

export type Downstream = { nodeId: string; msg: Message };

/**
 * Splits a downstream message into its node and the message the edge should see. A copy is returned: the
 * bus hands the same object to every receiver, and the sender may still hold it (e.g. a resend queue).
 */
export function stripNodePrefix(msg: Message): Downstream | undefined {
  const resource = msg.route.resource ?? '';
  const m = /^node\/([^/]+)\/(.+)$/.exec(resource);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  return { nodeId: m[1], msg: { ...msg, route: { ...msg.route, resource: m[2] } } };
}

/** Which cloud module gets an upstream message, after KubeEdge's DispatchUpstream (by route source). */
export function upstreamTarget(msg: Message): string {
  if (parseResource(msg.route.resource ?? '').type === NODE_METRICS_TYPE) return CloudModules.edgeMetrics;
  switch (msg.route.source) {
    case UpstreamSources.twin:
      return CloudModules.deviceController;
    case UpstreamSources.metaServer:
      return CloudModules.dynamicController;
    default:
      return CloudModules.edgeController;
  }
}

/** A node's own deletion (`<ns>/node/<node>` op delete) ends its session instead of going on the wire. */
export function isOwnNodeDelete(nodeId: string, edgeMsg: Message): boolean {
  if (edgeMsg.route.operation !== 'delete') return false;
  const parts = (edgeMsg.route.resource ?? '').split('/');
  return parts.length === 3 && parts[1] === 'node' && parts[2] === nodeId;
}
