import type { Bus } from '../../core/bus.ts';
import { logger, type Logger } from '../../core/log.ts';
import { newResponse, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { goStatusError, isNotFound, type KubeRest } from '../../kube/rest.ts';
import type { CloudInformers } from '../common/informers/informers.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { Downstream, type DownstreamStats } from './downstream/downstream.ts';
import { NodeMonitor } from './node-monitor.ts';
import { queryHandlers } from './upstream/configmap.ts';
import { eventHandlers } from './upstream/event.ts';
import { leaseHandlers } from './upstream/lease.ts';
import { nodeHandlers } from './upstream/node.ts';
import { podHandlers } from './upstream/pod.ts';
import type { UpstreamContext, UpstreamHandler, UpstreamRequest } from './upstream/types.ts';

export type EdgeControllerOptions = {
  enabled: boolean;
  kube: KubeRest;
  /** Set only with the embedded API server: there is no controller-manager to mark silent nodes. */
  nodeMonitor?: { gracePeriodMs: number; periodMs: number };
  /** cloudcore's shared informers; they enable the downstream half (pods, ConfigMaps, Secrets to the edges). */
  informers?: CloudInformers;
  log?: Logger;
};

/** Resource types an edge may only touch for itself (name = its own node name). */
const OWN_NODE_TYPES = new Set(['node', 'nodepatch', 'nodestatus']);

/**
 * EdgeController, upstream half: turns the edges' requests into API server calls and answers them in
 * KubeEdge's reply shapes. Each request is handled on its own; a slow API call never blocks other nodes.
 */
export class EdgeController implements Module {
  readonly name = CloudModules.edgeController;
  readonly group = CloudGroups.edgeController;
  readonly enabled: boolean;
  readonly #o: EdgeControllerOptions;
  readonly #handlers: Map<string, UpstreamHandler>;
  /** The downstream half; undefined without `informers` or when disabled. */
  readonly #downstream: Downstream | undefined;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #monitor: NodeMonitor | undefined;
  #inflight = new Set<Promise<void>>();

  constructor(o: EdgeControllerOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#handlers = new Map(Object.entries({ ...nodeHandlers, ...leaseHandlers, ...podHandlers, ...eventHandlers, ...queryHandlers }));
    this.#downstream =
      o.informers === undefined || !o.enabled
        ? undefined
        : new Downstream({
            informers: o.informers,
            log: o.log ?? logger(CloudModules.edgeController),
            send: (m) => this.#bus?.send(CloudModules.cloudHub, m),
            slicesServed: async () => {
              try {
                await o.kube.get('/apis/discovery.k8s.io/v1');
                return true;
              } catch (err) {
                if (isNotFound(err)) return false;
                throw err;
              }
            },
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
    this.#downstream?.start();
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#monitor?.stop();
    this.#downstream?.stop();
    await Promise.allSettled([...this.#inflight]);
  }

  /** Counters of the downstream half (undefined without it). */
  downstreamStats(): DownstreamStats | undefined {
    return this.#downstream?.stats();
  }

  #onMessage(msg: Message): void {
    const op = msg.route.operation ?? '';
    if (msg.route.source === CloudModules.cloudHub && (op === 'connected' || op === 'disconnected')) {
      this.#log?.info({ node: (msg.route.resource ?? '').split('/')[1], op }, 'edge session event');
      // A (re)connected edge gets what changed while it was away.
      if (op === 'connected') this.#bus?.send(CloudModules.syncController, msg);
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
      log.error({ resource: req.msg.route.resource, err }, 'upstream handler failed');
      this.#reply(req, { content: goStatusError(err) });
    }
  }

  #reply(req: UpstreamRequest, reply: { content: unknown; resourceVersion?: string }): void {
    const resp = newResponse(req.msg, reply.content, {
      source: CloudModules.edgeController,
      group: 'resource',
      ...(reply.resourceVersion === undefined ? {} : { resourceVersion: reply.resourceVersion }),
    });
    this.#bus?.send(CloudModules.cloudHub, resp);
  }
}

/** `node/<nodeId>/<namespace>/<type>/<name>` → parts; undefined for anything else. */
export function splitUpstream(msg: Message): UpstreamRequest | undefined {
  const parts = (msg.route.resource ?? '').split('/');
  if (parts[0] !== 'node' || parts.length < 4) return undefined;
  const [, nodeId = '', namespace = '', type = '', ...rest] = parts;
  return { msg, nodeId, namespace, type, name: rest.join('/') };
}
