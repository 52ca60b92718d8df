import type { Logger } from '../../../core/log.ts';
import type { Message } from '../../../core/message.ts';
import type { KubeRest } from '../../../kube/rest.ts';

/** An upstream message from an edge, its resource already split: `node/<nodeId>/<namespace>/<type>/<name>`. */
export type UpstreamRequest = {
  msg: Message;
  nodeId: string;
  namespace: string;
  type: string;
  name: string;
};

/** What to send back: the content and, where KubeEdge sets one, the resourceversion header. */
export type UpstreamReply = { content: unknown; resourceVersion?: string } | undefined;

export type UpstreamContext = { kube: KubeRest; log: Logger };

export type UpstreamHandler = (ctx: UpstreamContext, req: UpstreamRequest) => Promise<UpstreamReply>;

/** KubeEdge's `{"Object": ..., "Err": ...}` reply for registration, patches and leases. */
export function objectResp(object: unknown, err: unknown = null): { Object: unknown; Err: unknown } {
  return { Object: object, Err: err };
}

export function withoutTypeMeta<T extends Record<string, unknown>>(obj: T): Omit<T, 'kind' | 'apiVersion'> {
  const { kind: _k, apiVersion: _a, ...rest } = obj;
  return rest;
}

export function resourceVersionOf(obj: unknown): string | undefined {
  const md = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof md?.resourceVersion === 'string' ? md.resourceVersion : undefined;
}
