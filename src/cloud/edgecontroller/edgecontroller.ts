import type { Bus } from '../../core/bus.ts';
import { logger, type Logger } from '../../core/log.ts';
import { newResponse, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import type { k8s } from '../../kube/client.ts';
import { goStatusError, type KubeRest } from '../../kube/rest.ts';
import { Downstream } from './downstream/downstream.ts';
import { NodeMonitor } from './node-monitor.ts';
import { queryHandlers, type DeliveredHook } from './upstream/configmap.ts';
import { eventHandlers } from './upstream/event.ts';
import { leaseHandlers } from './upstream/lease.ts';
import { nodeHandlers } from './upstream/node.ts';
import { podHandlers } from './upstream/pod.ts';
import type { UpstreamContext, UpstreamHandler, UpstreamRequest } from './upstream/types.ts';

export const EDGECONTROLLER = 'edgecontroller';
const CLOUDHUB = 'cloudhub';
const SYNCCONTROLLER = 'synccontroller';

export type EdgeControllerOptions = {
  enabled: boolean;
  kube: KubeRest;
  /** Set only with the embedded API server: there is no controller-manager to mark silent nodes. */
  nodeMonitor?: { gracePeriodMs: number; periodMs: number };
  /** Enables the downstream half (watches need the kubeconfig itself, not just the REST client). */
  kubeConfig?: k8s.KubeConfig;
  /** Watch retry backoff of the downstream informers. */
  downstreamBackoff?: { initialMs: number; maxMs: number };
  /** Told about ConfigMaps/Secrets handed to an edge in query replies (the reliable queue records them). */
  onObjectDelivered?: DeliveredHook;
  log?: Logger;
};

/** Resource types an edge may only touch for itself (name = its own node name). */
const OWN_NODE_TYPES = new Set(['node', 'nodepatch', 'nodestatus']);

/**
 * EdgeController, upstream half: turns the edges' requests into API server calls and answers them in
 * KubeEdge's reply shapes. Each request is handled on its own; a slow API call never blocks other nodes.
 */
export class EdgeController implements Module {
  readonly name = EDGECONTROLLER;
  readonly group = EDGECONTROLLER;
  readonly enabled: boolean;
  readonly #o: EdgeControllerOptions;
  readonly #handlers: Map<string, UpstreamHandler>;
  /** The downstream half; undefined without `kubeConfig`. Also the synccontroller's view of live objects. */
  readonly downstream: Downstream | undefined;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #monitor: NodeMonitor | undefined;
  #inflight = new Set<Promise<void>>();

  constructor(o: EdgeControllerOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#handlers = new Map(Object.entries({ ...nodeHandlers, ...leaseHandlers, ...podHandlers, ...eventHandlers, ...queryHandlers(o.onObjectDelivered) }));
    this.downstream =
      o.kubeConfig === undefined
        ? undefined
        : new Downstream({
            kc: o.kubeConfig,
            kube: o.kube,
            log: o.log ?? logger(EDGECONTROLLER),
            send: (m) => this.#bus?.send(CLOUDHUB, m),
            ...(o.downstreamBackoff === undefined ? {} : { backoff: o.downstreamBackoff }),
          });
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    if (this.#o.nodeMonitor !== undefined) {
      this.#monitor = new NodeMonitor({ kube: this.#o.kube, log: ctx.log, ...this.#o.nodeMonitor });
      this.#monitor.start();
    }
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    this.downstream?.start();
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#monitor?.stop();
    this.downstream?.stop();
    await Promise.allSettled([...this.#inflight]);
  }

  #onMessage(msg: Message): void {
    const op = msg.route.operation ?? '';
    if (msg.route.source === 'cloudhub' && (op === 'connected' || op === 'disconnected')) {
      this.#log?.info({ node: (msg.route.resource ?? '').split('/')[1], op }, 'edge session event');
      // A (re)connected edge gets what changed while it was away.
      if (op === 'connected') this.#bus?.send(SYNCCONTROLLER, msg);
      return;
    }
    const req = splitUpstream(msg);
    if (req === undefined) {
      this.#log?.warn({ resource: msg.route.resource, op }, 'upstream message without node/<id>/ns/type/name resource dropped');
      return;
    }
    const handler = this.#handlers.get(`${req.type}:${op}`);
    if (handler === undefined) {
      this.#log?.debug({ resource: msg.route.resource, op }, 'no upstream handler');
      return;
    }
    if (OWN_NODE_TYPES.has(req.type) && req.name !== req.nodeId) {
      this.#reply(req, { content: goStatusError(new Error(`node ${req.nodeId} may not change node ${req.name}`)) });
      return;
    }
    const p = this.#handle(handler, req).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  async #handle(handler: UpstreamHandler, req: UpstreamRequest): Promise<void> {
    const log = this.#log;
    if (log === undefined) return;
    const ctx: UpstreamContext = { kube: this.#o.kube, log };
    try {
      const reply = await handler(ctx, req);
      if (reply !== undefined) this.#reply(req, reply);
    } catch (err) {
      log.error({ resource: req.msg.route.resource, err: String(err) }, 'upstream handler failed');
      this.#reply(req, { content: goStatusError(err) });
    }
  }

  #reply(req: UpstreamRequest, reply: { content: unknown; resourceVersion?: string }): void {
    const resp = newResponse(req.msg, reply.content, {
      source: EDGECONTROLLER,
      group: 'resource',
      ...(reply.resourceVersion === undefined ? {} : { resourceVersion: reply.resourceVersion }),
    });
    this.#bus?.send(CLOUDHUB, resp);
  }
}

/** `node/<nodeId>/<namespace>/<type>/<name>` → parts; undefined for anything else. */
export function splitUpstream(msg: Message): UpstreamRequest | undefined {
  const parts = (msg.route.resource ?? '').split('/');
  if (parts[0] !== 'node' || parts.length < 4) return undefined;
  const [, nodeId = '', namespace = '', type = '', ...rest] = parts;
  return { msg, nodeId, namespace, type, name: rest.join('/') };
}
